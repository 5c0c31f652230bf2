// Writes one Zarr array from a sequence of frames. A composer of parts:
// - FrameScatter (frame_scatter.hh): where each frame's tiles go;
// - a ChunkBuilder (chunk_builder.hh): how chunks are built from the frames
//   and handed to the pool (whole, Blosc planes, or raw planes in place);
// - a ChunkSink (chunk_sink.hh): where built chunks go (v2: one object per
//   chunk; v3: shards with their index and CRC32C);
// - ExtentTracker (extent_tracker.hh): the frames appended and the extent
//   the metadata shows;
// with every threshold and budget they use in io_policy.hh.
#pragma once

#include "../storage/store.hh"
#include "../util/error.hh"
#include "../util/thread_pool.hh"
#include "array_spec.hh"
#include "chunk_builder.hh"
#include "chunk_sink.hh"
#include "extent_tracker.hh"
#include "frame_scatter.hh"
#include "geometry.hh"

#include <memory>
#include <optional>

namespace zarr {

class ArrayWriter
{
  public:
    /// `planes`: plane_plan(spec), where the caller has it already.
    /// `io_share`: counts this writer's I/O jobs apart from the pool's other
    /// producers' (the levels of one array share one). `staging`: the
    /// stream's staging buffers, shared with its other writers.
    ArrayWriter(ArraySpec spec,
                storage::Store& store,
                ThreadPool& pool,
                FirstError& errors,
                std::optional<codec::BloscPlanes> planes,
                IoShare* io_share = nullptr,
                StagingPools* staging = nullptr);
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
    bool compresses_planes() const noexcept
    {
        return building_ == ChunkBuilding::compressed_planes;
    }

    /// Uncompressed chunks written plane by plane, in place in their shards
    /// (v3) or files (v2), as frames arrive (a store that writes in place,
    /// planes of whole pages), instead of whole when complete.
    bool writes_planes() const noexcept { return building_ == ChunkBuilding::raw_planes; }

    /// How chunks of `spec` are compressed plane by plane, or nullopt if
    /// they are compressed whole (see zarr::plane_plan).
    static std::optional<codec::BloscPlanes> plane_plan(const ArraySpec& spec);

    /// Frames appended so far.
    uint64_t frames() const noexcept { return extent_.frames(); }

    /// Extent of the append dimension that the frames so far cover.
    uint64_t append_extent() const noexcept { return extent_.append_extent(); }

    /// Copies one frame (frame_bytes() bytes) into its chunks; submits the
    /// chunks it completes. The caller checks capacity first.
    void append_frame(const uint8_t* frame);

    /// Submits every open chunk, padding frames that never arrived with
    /// zeros. Call before waiting for the pool at close.
    void flush() { builder_->flush(); }

    /// After the pool is idle: writes the index of every shard still open
    /// and syncs it. Throws on failure.
    void finalize_shards() { sink_->finalize(); }

    /// Writes the array metadata with the current extent.
    void write_metadata() { extent_.write_metadata(); }

    /// Rewrites the array metadata with the extent it shows now.
    void rewrite_metadata() { extent_.rewrite_metadata(); }

    /// After a failure: writes the metadata of an unbounded array with the
    /// extent whose rows were all stored before it (never an extent that
    /// would show lost frames as fill values). Returns that extent (for a
    /// bounded array, its size: its metadata never changes).
    uint64_t write_metadata_of_stored_rows() { return extent_.write_metadata_of_stored_rows(); }
    uint64_t published_extent() { return extent_.published_extent(); }

  private:
    ArraySpec spec_;
    Geometry geometry_;
    ExtentTracker extent_;
    FrameScatter scatter_;
    ChunkBuilding building_;
    std::unique_ptr<ChunkSink> sink_;
    std::unique_ptr<ChunkBuilder> builder_; // destroyed first: it uses the rest
};

} // namespace zarr
