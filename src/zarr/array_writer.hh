// Writes one Zarr array from a sequence of frames: scatters each frame into
// the chunks it touches (one copy), hands every completed chunk to the thread
// pool (compress, then write: one object per chunk for v2, a byte range in
// its shard for v3), and writes the shard index when a shard is complete.
// Where chunks are compressed plane by plane (codec::BloscPlanes), a frame is
// scattered into a staging buffer of planes instead, which the workers
// compress into each chunk's encoded bytes as the frames arrive (held in
// pooled segments that the chunk takes as it grows); a complete chunk is
// then only written. Where uncompressed v3 chunks are written plane by plane
// (writes_planes()), a few frames' planes are staged with each chunk's
// together and written straight to the chunk's fixed place in its shard.
// Small v3 chunks (under 256 KiB) of a shard are packed back to back into
// 4 MiB buffers, each written at once (see pack_chunk).
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
#include <optional>
#include <span>
#include <vector>

namespace zarr {

class ArrayWriter
{
  public:
    /// `planes`: plane_plan(spec), where the caller has it already.
    ArrayWriter(ArraySpec spec,
                storage::Store& store,
                ThreadPool& pool,
                FirstError& errors,
                std::optional<codec::BloscPlanes> planes);
    ArrayWriter(const ArraySpec& spec,
                storage::Store& store,
                ThreadPool& pool,
                FirstError& errors);
    ~ArrayWriter();

    ArrayWriter(const ArrayWriter&) = delete;
    ArrayWriter& operator=(const ArrayWriter&) = delete;

    const ArraySpec& spec() const noexcept { return spec_; }
    const Geometry& geometry() const noexcept { return geometry_; }

    /// Chunks compressed plane by plane as frames arrive (see
    /// plane_plan()), or whole when complete.
    bool compresses_planes() const noexcept { return planes_.has_value(); }

    /// Uncompressed chunks written plane by plane, in place in their shards
    /// (v3) or files (v2), as frames arrive (a store that writes in place,
    /// planes of whole pages), instead of whole when complete.
    bool writes_planes() const noexcept { return write_group_ != 0; }

    /// How chunks of `spec` are compressed plane by plane, or nullopt if
    /// they are compressed whole: Blosc with a level above 0, chunks of more
    /// than one frame each, planes of at least 4 KiB.
    static std::optional<codec::BloscPlanes> plane_plan(const ArraySpec& spec);

    /// Bytes the stream's pool should let the jobs of a writer of `spec`
    /// hold: a slab of chunks completed at once, or (`planes`: plane_plan()
    /// has a plan) a few frames of planes.
    static uint64_t bytes_in_flight(const ArraySpec& spec, bool planes);

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
    /// A chunk stored in its shard, for the index.
    struct IndexEntry
    {
        uint64_t index; // of the chunk in its shard
        uint64_t at;    // offset in the shard (in a Pack: in the pack, until written)
        uint64_t n;
    };
    struct Pack;
    struct PlaneChunk;
    struct PlaneTask
    {
        std::shared_ptr<PlaneChunk> chunk;
        uint32_t seq;        // this task's turn on the chunk
        uint32_t plane;      // plane index in the chunk
        bool last;           // the chunk is complete after this task
        const uint8_t* src;  // the plane (staging); nullptr: none (padding)
    };
    struct PlaneBatch;
    struct RawChunk;

    /// Where the next frame goes: the slab index of its first tile, its
    /// byte offset inside each chunk, and whether it completes its group.
    struct Placement
    {
        uint64_t base;
        uint64_t local_bytes;
        bool completes;
    };
    Placement place_frame();
    void scatter(const uint8_t* frame); // nullptr: zeros
    void scatter_planes(const uint8_t* frame);
    /// Copies the frame's planes to `dst`: tile i's at i * stride planes.
    void stage_planes(const uint8_t* frame, uint8_t* dst, size_t stride) const;
    void stage_raw_planes(const uint8_t* frame);
    /// Hands the staged group's planes to the I/O threads; `completes`:
    /// its last frame completes its chunks.
    void write_group(bool completes);
    /// Where the planes of `chunk` go: its shard (v3), or its own file
    /// (v2), created by the first call. Thread-safe.
    storage::Sink& chunk_file(RawChunk& chunk);
    /// Hands out the planes of a completing `chunk` that no frame filled
    /// (v2: writes those after its last plane as zeros, so its file is
    /// whole); returns how many of them are never written, which the caller
    /// counts as stored (with its last write, or at once).
    uint64_t pad_raw_chunk(const std::shared_ptr<RawChunk>& chunk);
    /// Counts `planes` more planes of `chunk` as stored (written, or, in a
    /// v3 shard, padding that is never written: the shard's space reads as
    /// zeros); the chunk's last finishes its file (v2) or indexes it (v3).
    void raw_planes_stored(RawChunk& chunk, uint64_t planes);
    /// Records a chunk stored at `offset` in its shard; finishes the shard
    /// when that was its last chunk.
    void chunk_stored(const std::vector<uint64_t>& coords,
                      const std::shared_ptr<Shard>& shard,
                      uint64_t offset,
                      uint64_t n);
    void submit_planes(std::shared_ptr<PlaneBatch> batch);
    void run_plane_task(const PlaneTask& task);
    void append_plane(PlaneChunk& chunk, const PlaneTask& task);
    Buffer& open_chunk(uint64_t slab_index);
    /// Submits the chunks of the group at `base` (slab index of its first
    /// tile) that hold data, several small ones per job.
    void submit_chunks(uint64_t base);
    void write_chunk(const std::vector<uint64_t>& coords, Buffer& chunk);
    /// Stores an encoded chunk of `n` bytes: the first `n` bytes of
    /// `buffers`, back to back, which may be overwritten past them (a chunk
    /// with room to pad to the sink's alignment goes out by direct I/O).
    void store_chunk(const std::vector<uint64_t>& coords,
                     std::span<const std::span<uint8_t>> buffers,
                     size_t n);
    /// Copies a small chunk (the first `n` bytes of `parts`) into its
    /// shard's pack; hands the pack to the I/O threads when full or when
    /// this was the shard's last chunk.
    void pack_chunk(const std::vector<uint64_t>& coords,
                    const std::shared_ptr<Shard>& shard,
                    std::span<const std::span<const uint8_t>> parts,
                    size_t n);
    /// Writes a pack at an aligned offset in its shard and indexes its
    /// chunks.
    void write_pack(const std::shared_ptr<Shard>& shard, Pack& pack);
    /// Writes the pack being filled for `shard`, if any.
    void write_open_pack(const std::shared_ptr<Shard>& shard);
    /// Records stored chunks in their shard's index; finishes the shard
    /// when they were its last.
    void index_chunks(const std::shared_ptr<Shard>& shard,
                      std::span<const IndexEntry> chunks);
    /// Bytes of each segment of a chunk compressed plane by plane.
    static size_t segment_bytes(const codec::BloscPlanes& planes);
    /// Coordinates of the shard holding `chunk`.
    std::vector<uint64_t> shard_of(const std::vector<uint64_t>& chunk) const;
    std::shared_ptr<Shard> shard_for(const std::vector<uint64_t>& shard);
    void finish_shard(Shard& shard);
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

    // Compression plane by plane: frames are scattered into a staging
    // buffer (one plane per chunk, back to back) that the workers compress
    // from, into each chunk's segments.
    std::optional<codec::BloscPlanes> planes_;
    std::shared_ptr<BufferPool> staging_;  // one frame of planes each
    std::shared_ptr<BufferPool> segments_; // parts of encoded chunks
    size_t segment_bytes_ = 0;
    std::vector<std::shared_ptr<PlaneChunk>> open_planes_; // by slab index

    // Uncompressed chunks written plane by plane: a group of up to
    // write_group_ frames is staged with each chunk's planes together, and
    // written with one request per chunk at its place in the shard.
    uint64_t write_group_ = 0;            // 0: chunks are written whole
    std::shared_ptr<Buffer> group_;        // the group being staged
    uint64_t group_frames_ = 0;           // frames in group_
    uint64_t group_base_ = 0;             // placement of its first frame
    uint64_t group_local_bytes_ = 0;
    std::vector<std::shared_ptr<RawChunk>> open_raw_; // by slab index
    AlignedBytes zeros_; // v2 padding planes, a group's worth (pad_raw_chunk)
    uint64_t open_slab_ = 0;           // append-chunk index of open_
    std::atomic<uint64_t> frames_{ 0 }; // frames appended by the caller
    uint64_t scattered_ = 0;           // frames scattered, padding included
    uint64_t groups_completed_ = 0;    // groups of planes whose last frame came
    std::vector<uint64_t> coords_;     // scratch for frame coordinates

    // Packs of small chunks (v3 in a store that writes in place).
    std::shared_ptr<BufferPool> packs_;

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
