// Writes one Zarr array from a sequence of frames: scatters each frame into
// the chunks it touches (one copy), hands every completed chunk to the thread
// pool (compress, then write: one object per chunk for v2, a byte range in
// its shard for v3), and writes the shard index when a shard is complete.
#pragma once

#include "../storage/store.hh"
#include "../util/buffer_pool.hh"
#include "../util/error.hh"
#include "../util/thread_pool.hh"
#include "array_spec.hh"
#include "geometry.hh"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace zarr {

class ArrayWriter
{
  public:
    ArrayWriter(ArraySpec spec,
                storage::Store& store,
                ThreadPool& pool,
                FirstError& errors);
    ~ArrayWriter();

    ArrayWriter(const ArrayWriter&) = delete;
    ArrayWriter& operator=(const ArrayWriter&) = delete;

    const ArraySpec& spec() const noexcept { return spec_; }
    const Geometry& geometry() const noexcept { return geometry_; }

    /// Bytes of memory one slab of open chunks takes.
    uint64_t slab_bytes() const noexcept;

    /// Frames appended so far.
    uint64_t frames() const noexcept { return frames_.load(std::memory_order_relaxed); }

    /// Extent of the append dimension that the frames so far cover.
    uint64_t append_extent() const noexcept;

    /// Copies one frame (frame_bytes() bytes) into its chunks; submits the
    /// chunks it completes. The caller checks capacity first.
    void append_frame(const uint8_t* frame);

    /// Submits every open chunk, padding frames that never arrived with
    /// zeros. Call before waiting for the pool at close.
    void flush();

    /// After the pool is idle: writes the index of every shard still open
    /// and syncs it. Throws on failure.
    void finalize_shards();

    /// Writes the array metadata with the current extent.
    void write_metadata();

    /// After a failure: writes the metadata of an unbounded array with the
    /// extent whose rows were all stored before it (never an extent that
    /// would show lost frames as fill values). Returns that extent (for a
    /// bounded array, its size: its metadata never changes).
    uint64_t write_metadata_of_stored_rows();

  private:
    struct Tile
    {
        uint64_t src_offset;   // bytes into a frame
        uint64_t rows;         // rows of the frame inside this chunk
        uint64_t row_bytes;    // bytes per row inside this chunk
        uint64_t slab_offset;  // added to the frame's first slab index
    };
    struct Completed
    {
        std::vector<uint64_t> coords; // chunk coordinates
        Buffer chunk;
    };
    struct Shard;

    void scatter(const uint8_t* frame); // nullptr: zeros
    Buffer& open_chunk(uint64_t slab_index);
    /// Submits the chunks of the group at `base` (slab index of its first
    /// tile) that hold data, several small ones per job.
    void submit_chunks(uint64_t base);
    void write_chunk(const std::vector<uint64_t>& coords, const Buffer& chunk);
    std::shared_ptr<Shard> shard_for(const std::vector<uint64_t>& shard);
    void finish_shard(const std::vector<uint64_t>& key, Shard& shard);
    std::string chunk_key(const std::vector<uint64_t>& coords, bool v3) const;
    void row_object_done(uint64_t row);
    /// The extent whose rows are all stored (progress_mutex_ held).
    uint64_t stored_extent() const;

    ArraySpec spec_;
    Geometry geometry_;
    storage::Store& store_;
    ThreadPool& pool_;
    FirstError& errors_;

    std::shared_ptr<BufferPool> buffers_;
    std::vector<Tile> tiles_;
    std::vector<uint64_t> chunk_strides_; // elements, per outer dimension
    uint64_t chunk_row_bytes_ = 0;
    uint64_t frame_row_bytes_ = 0;

    std::vector<Buffer> open_;         // by slab index
    uint64_t open_slab_ = 0;           // append-chunk index of open_
    std::atomic<uint64_t> frames_{ 0 }; // frames appended by the caller
    uint64_t scattered_ = 0;           // frames scattered, padding included
    std::vector<uint64_t> coords_;     // scratch for frame coordinates

    std::mutex shards_mutex_;
    std::map<std::vector<uint64_t>, std::shared_ptr<Shard>> shards_;

    // Live metadata of an unbounded array: the extent along the append
    // dimension follows the rows (v2: chunk rows, v3: shard rows) whose
    // objects are all in the store.
    std::mutex progress_mutex_;
    uint64_t objects_per_row_ = 1;
    uint64_t row_extent_ = 1;                  // append indices per row
    std::map<uint64_t, uint64_t> row_done_;    // row -> objects stored
    uint64_t rows_complete_ = 0;               // rows 0.. all stored
    uint64_t published_extent_ = 0;            // in the metadata now
};

} // namespace zarr
