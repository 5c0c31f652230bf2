// An S3 object written through a storage::Sink: bytes are cut into parts
// as they arrive and a multipart upload starts once the first part is full;
// an object smaller than one part goes out with one PutObject at finalize.
#pragma once

#include "../store.hh"
#include "client.hh"

#include <pugixml.hpp>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace zarr::storage::s3 {

constexpr size_t kMinPartSize = 5ull << 20; // S3's minimum (all but the last part)
constexpr size_t kMaxParts = 10000;         // S3's maximum part count
// The largest object whose bytes are all known when it is first written
// (Store::put_parts) that goes up as one PutObject; a larger one goes as a
// multipart upload. Chosen by measurement against SeaweedFS: docs/s3.md,
// "One PutObject or a multipart upload".
constexpr size_t kMaxSinglePut = 64ull << 20;

/// `doc` as one line of XML (request bodies).
std::string
xml_string(const pugi::xml_document& doc);

inline const uint8_t*
bytes(const std::string& s)
{
    return reinterpret_cast<const uint8_t*>(s.data());
}

/// One object written front to back (positional writes may arrive out of
/// order from several threads; the bytes are queued until the gap before them
/// is filled). Complete parts upload from the writing thread as soon as they
/// fill, several at once when several threads write.
class MultipartSink final : public storage::Sink
{
  public:
    MultipartSink(Client& client, std::string key, size_t part_size)
      : client_(client)
      , key_(std::move(key))
      , part_size_(part_size)
    {
    }
    ~MultipartSink() override;

    void write(uint64_t offset, const uint8_t* data, size_t n) override;
    /// All parts arrive at once: a write in several calls would let the
    /// writes behind it pile up as early bytes while one of its calls
    /// uploads a part.
    void write_parts(uint64_t offset,
                     std::span<const std::span<const uint8_t>> parts) override;
    void reserve(uint64_t bytes) override;
    void finalize() override;

  private:
    void upload_part(int number, const std::vector<uint8_t>& part);
    void start_upload();
    void complete_upload();
    void abort_upload() noexcept;
    [[noreturn]] void failed(const std::string& what, const Response& r);

    Client& client_;
    const std::string key_;

    std::mutex mutex_;
    std::condition_variable idle_;
    size_t part_size_;
    uint64_t end_ = 0;               // bytes [0, end_) have arrived
    std::vector<uint8_t> head_;      // bytes not yet cut into parts
    std::map<uint64_t, std::vector<uint8_t>> early_; // arrived past a gap
    int parts_cut_ = 0;
    int in_flight_ = 0;
    std::vector<std::string> etags_; // per part number - 1
    std::string error_;
    bool finalized_ = false;

    std::mutex start_mutex_;   // serialises CreateMultipartUpload
    std::string upload_id_;    // guarded by start_mutex_ until set
    bool completed_ = false;
};

} // namespace zarr::storage::s3
