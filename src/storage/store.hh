// Where bytes go. A Store maps '/'-separated keys to objects; it knows
// nothing about arrays, chunks or Zarr. Stores are opened from a config by
// open_store (open_store.hh): the filesystem (fs_store.*) and S3 (s3/).
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

    /// Deletes every object under the node `key` ("<key>/..."), e.g. an
    /// array that is about to be replaced, so that none of its old chunks
    /// can show through the new one. Objects beside it ("<key>x/...") stay.
    virtual void erase_node(const std::string& key) = 0;

    /// Makes every object finalized so far, and the names that lead to them,
    /// durable. Throws if any write back to storage failed.
    virtual void sync() = 0;

    /// Where `key` lives, for messages (a path or URL).
    virtual std::string describe(const std::string& key) const = 0;

    /// True where a sink's writes may come in any order and at any offset
    /// at no extra cost (files); false where a sink holds back the bytes
    /// that arrive ahead of a gap (S3 uploads parts front to back).
    virtual bool writes_in_place() const noexcept { return false; }

    /// True where a failed write means that the location the store was
    /// opened at is unusable (a directory that refuses files: the settings
    /// are wrong); false where opening the store already proved the location
    /// usable, so that a failed write is the service's failure (S3: open
    /// lists the bucket with the credentials).
    virtual bool write_failure_means_bad_location() const noexcept { return false; }
};

/// The filesystem store rooted at directory `root`, created if missing,
/// with none of open_store's checks (unit tests build one directly). Throws
/// zarr::Error(IOError) when the directory cannot be created or opened.
std::unique_ptr<Store>
make_filesystem_store(const std::string& root);

} // namespace zarr::storage
