// Where an array's chunks go once built: one interface, two sinks. v2 writes
// each chunk as an object of its own (chunk_files.cpp); v3 assembles shards
// (shard_writer.cpp): each chunk at a byte range claimed in its shard, small
// ones packed together, and the index with its CRC32C when the shard's last
// chunk is stored. Both count the objects they complete in the extent
// tracker.
#pragma once

#include "../storage/store.hh"
#include "../util/error.hh"
#include "../util/thread_pool.hh"
#include "array_spec.hh"
#include "extent_tracker.hh"
#include "geometry.hh"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace zarr {

/// An uncompressed chunk at a fixed place in the store (its own object, or
/// its range of its shard), written piece by piece as frames arrive.
class PlacedChunk
{
  public:
    virtual ~PlacedChunk() = default;

    /// Writes `n` bytes at `at` bytes into the chunk. I/O threads;
    /// thread-safe.
    virtual void write(uint64_t at, const uint8_t* src, size_t n) = 0;

    /// Called once, when every byte of the chunk is written or counted as
    /// padding: finishes its object (v2) or indexes it (v3).
    virtual void complete() = 0;

    /// True if bytes after the last one written must be written (as zeros)
    /// for the chunk to read whole: a chunk that is an object of its own
    /// ends at its last write. In a shard, space never written reads as
    /// zeros.
    virtual bool needs_trailing_zeros() const noexcept = 0;
};

class ChunkSink
{
  public:
    virtual ~ChunkSink() = default;

    /// Stores an encoded chunk of `n` bytes: the first `n` bytes of
    /// `buffers`, back to back, which may be overwritten past them (a chunk
    /// with room to pad to the sink's alignment goes out by direct I/O).
    /// Workers and I/O threads; thread-safe.
    virtual void store(const std::vector<uint64_t>& coords,
                       std::span<const std::span<uint8_t>> buffers,
                       size_t n) = 0;

    /// The place of the uncompressed chunk at `coords` (appending thread).
    /// Throws if its shard cannot be opened.
    virtual std::shared_ptr<PlacedChunk> place(const std::vector<uint64_t>& coords) = 0;

    /// After the pool is idle: writes the index of every shard still open
    /// and syncs it. Records failures in the stream's first error.
    virtual void finalize() = 0;
};

/// What a sink writes to, and whom it tells.
struct SinkContext
{
    const ArraySpec& spec;
    const Geometry& geometry;
    storage::Store& store;
    ThreadPool& pool;
    FirstError& errors;
    ExtentTracker& extent;
    IoShare* io_share = nullptr; // the array's part of the pool's I/O lane
};

/// v2: one object per chunk.
std::unique_ptr<ChunkSink>
make_chunk_files(const SinkContext& context);

/// v3: shards. `chunk_bound`: the most bytes an encoded chunk takes, for
/// the space each shard reserves.
std::unique_ptr<ChunkSink>
make_shard_writer(const SinkContext& context, uint64_t chunk_bound);

/// The key of the chunk (v2) or shard (v3) at `coords` (as stored:
/// Geometry::stored()) of the array at `array_key`.
std::string
chunk_key(const std::string& array_key, const std::vector<uint64_t>& coords, bool v3);

/// The first `n` bytes of `buffers` as parts, each within its buffer: a
/// thread-local vector, valid until the calling thread's next call.
std::vector<std::span<const uint8_t>>&
first_bytes(std::span<const std::span<uint8_t>> buffers, size_t n);

} // namespace zarr
