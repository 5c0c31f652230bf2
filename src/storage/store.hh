// Where bytes go. A Store maps '/'-separated keys to objects; it knows
// nothing about arrays, chunks or Zarr. Implementations: filesystem (this
// (fs_store.cpp) and S3 (s3/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace zarr::storage {

/// Bytes of `parts` together.
inline size_t
total_bytes(std::span<const std::span<const uint8_t>> parts) noexcept
{
    size_t n = 0;
    for (const auto& part : parts) {
        n += part.size();
    }
    return n;
}

/// One object being written by positional writes, possibly from several
/// threads at once (at disjoint ranges). finalize() completes the object and
/// must be called exactly once: only then does the object appear in the
/// store, whole (a temporary file renamed into place; a completed multipart
/// upload). It is durable once Store::sync() returns. A sink destroyed
/// without finalize() leaves no object behind.
class Sink
{
  public:
    virtual ~Sink() = default;
    virtual void write(uint64_t offset, const uint8_t* data, size_t n) = 0;

    /// Writes `parts` back to back from `offset`, as write() would write
    /// them one after the other; in one request where the sink can (an
    /// object held in several buffers). Direct I/O applies when every part
    /// is aligned (see direct_alignment()).
    virtual void write_parts(uint64_t offset,
                             std::span<const std::span<const uint8_t>> parts)
    {
        for (const auto& part : parts) {
            write(offset, part.data(), part.size());
            offset += part.size();
        }
    }
    virtual void finalize() = 0;

    /// A hint that about `bytes` will be written; the object ends at its
    /// last written byte regardless.
    virtual void reserve(uint64_t /*bytes*/) {}

    /// Writes whose offset, length and buffer address are multiples of this
    /// bypass the page cache (direct I/O); 0 when the sink has no such path.
    virtual size_t direct_alignment() const noexcept { return 0; }
};

class Store
{
  public:
    virtual ~Store() = default;

    /// Opens (creating or truncating) the object at `key`.
    virtual std::unique_ptr<Sink> open_sink(const std::string& key) = 0;

    /// Writes a whole object (durable after sync()).
    virtual void put(const std::string& key, const uint8_t* data, size_t n);

    /// Writes a whole object held in several buffers, back to back (durable
    /// after sync()).
    virtual void put_parts(const std::string& key,
                           std::span<const std::span<const uint8_t>> parts);

    /// Replaces the object at `key` durably, so that a concurrent reader sees
    /// either the old or the new content, never a mix (metadata documents).
    virtual void put_atomic(const std::string& key, std::string_view data) = 0;

    /// The object's content, or nullopt if there is none.
    virtual std::optional<std::string> get(const std::string& key) = 0;

    virtual bool exists(const std::string& key) = 0;

    /// Deletes every object of the store.
    virtual void clear() = 0;

    /// Makes every object finalized so far, and the names that lead to them,
    /// durable. Throws if any write back to storage failed.
    virtual void sync() = 0;

    /// Where `key` lives, for messages (a path or URL).
    virtual std::string describe(const std::string& key) const = 0;

    /// True where a sink's writes may come in any order and at any offset
    /// at no extra cost (files); false where a sink holds back the bytes
    /// that arrive ahead of a gap (S3 uploads parts front to back).
    virtual bool writes_in_place() const noexcept { return false; }
};

/// A store rooted at directory `root`, created if missing. Throws
/// zarr::Error(IOError) when it cannot be created or written.
std::unique_ptr<Store>
make_filesystem_store(const std::string& root);

struct S3StoreConfig
{
    std::string endpoint;            // "host[:port]" or "http(s)://host[:port]"
    std::string bucket;
    std::string region;              // empty: us-east-1
    std::string prefix;              // keys go under "<prefix>/"; not empty
    size_t part_size = 8ull << 20;   // multipart part size (at least 5 MiB)
};

/// A store under `prefix` in an S3 bucket, path-style. Finds the credentials
/// (see s3/credentials.hh) and checks at once that the endpoint answers, the
/// bucket exists and the credentials are accepted; throws zarr::Error
/// (InvalidSettings or IOError) saying which failed. Never reports secrets.
std::unique_ptr<Store>
make_s3_store(const S3StoreConfig& config);

} // namespace zarr::storage
