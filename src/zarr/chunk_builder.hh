// How an array's chunks are built from frames: one interface, three
// strategies, each in its own file, chosen by make_chunk_builder():
// - whole_chunks.cpp: frames are scattered into chunk buffers; a chunk is
//   compressed (if it is) and stored when the last frame that touches it
//   arrives;
// - plane_chunks.cpp: Blosc chunks compressed plane by plane as the frames
//   arrive (codec::BloscPlanes), into pooled segments that the chunk takes
//   as it grows; a complete chunk is then only stored;
// - raw_planes.cpp: uncompressed chunks with a fixed place in the store
//   (a store that writes in place, planes of whole pages): a few frames'
//   planes of each chunk are staged together and written to the chunk's
//   place as they arrive.
// Each hands its chunks to the array's ChunkSink.
#pragma once

#include "../codec/blosc1.hh"
#include "../util/buffer_pool.hh"
#include "../util/error.hh"
#include "../util/thread_pool.hh"
#include "array_spec.hh"
#include "chunk_sink.hh"
#include "frame_scatter.hh"
#include "geometry.hh"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

namespace zarr {

class ChunkBuilder
{
  public:
    virtual ~ChunkBuilder() = default;

    /// Copies one frame (frame_bytes() bytes) into its chunks; submits the
    /// chunks it completes. Appending thread.
    virtual void append(const uint8_t* frame) = 0;

    /// Submits every open chunk, padding frames that never arrived with
    /// zeros. Call before waiting for the pool at close.
    virtual void flush() = 0;
};

/// Staging buffers that the writers of one stream share, a pool per buffer
/// size. The stream's pool bounds the frames in flight with one byte budget
/// for every array, so arrays that share a pool of staged frames need fewer
/// of them than a pool each would keep (each keeps what it once needed):
/// four arrays appended in turn need about 3 x 4 + 2, not 5 x 4.
class StagingPools
{
  public:
    struct Share
    {
        std::shared_ptr<BufferPool> pool;
        uint64_t own = 0; // buffers this writer adds to what the pool needs
    };

    /// The pool of `buffer_bytes` buffers, made by the first writer that
    /// asks. Each writer adds `in_flight` buffers to what the pool needs,
    /// the first also `staged` (the appending thread's, counted once).
    Share want(size_t buffer_bytes, uint64_t in_flight, uint64_t staged);

  private:
    std::mutex mutex_;
    std::map<size_t, std::shared_ptr<BufferPool>> pools_;
};

/// What a builder works with.
struct BuildContext
{
    const ArraySpec& spec;
    const Geometry& geometry;
    FrameScatter& scatter;
    ChunkSink& sink;
    ThreadPool& pool;
    FirstError& errors;
    IoShare* io_share = nullptr; // the array's part of the pool's I/O lane
    StagingPools* staging = nullptr; // the stream's; nullptr: a pool of its own
};

enum class ChunkBuilding
{
    whole,             // whole_chunks.cpp
    compressed_planes, // plane_chunks.cpp
    raw_planes,        // raw_planes.cpp
};

/// How chunks of `spec` are compressed plane by plane, or nullopt if they
/// are compressed whole (or not compressed): Blosc with a level above 0,
/// chunks of more than one frame each, planes of at least 4 KiB.
std::optional<codec::BloscPlanes>
plane_plan(const ArraySpec& spec);

/// The strategy for chunks of `spec` (whose geometry is `g`): compressed
/// plane by plane where `planes` (plane_plan()) has a plan; uncompressed
/// planes written in place where the store writes in place and planes are
/// whole pages; whole chunks otherwise.
ChunkBuilding
choose_chunk_building(const ArraySpec& spec,
                      const Geometry& g,
                      const std::optional<codec::BloscPlanes>& planes,
                      bool store_writes_in_place);

std::unique_ptr<ChunkBuilder>
make_chunk_builder(ChunkBuilding how,
                   const BuildContext& context,
                   std::optional<codec::BloscPlanes> planes);

std::unique_ptr<ChunkBuilder>
make_whole_chunks(const BuildContext& context);
std::unique_ptr<ChunkBuilder>
make_plane_chunks(const BuildContext& context, codec::BloscPlanes planes);
std::unique_ptr<ChunkBuilder>
make_raw_planes(const BuildContext& context);

/// A page-aligned scratch buffer of at least `n` bytes (rounded up to a
/// page) for the calling worker thread, valid until its next call: grown
/// once, then reused, so the steady state allocates nothing. Page aligned,
/// so that a chunk compressed into it can go to disk by direct I/O.
std::span<uint8_t>
thread_scratch(size_t n);

/// The pool of staging buffers of `buffer_bytes` for the builder of
/// `context` (the stream's, where it shares them), and how many buffers
/// this writer adds to what it needs (StagingPools::want).
StagingPools::Share
staging_pool(const BuildContext& context,
             size_t buffer_bytes,
             uint64_t in_flight,
             uint64_t staged);

/// The bytes of buffers a writer of `spec` prefills at most: its share of
/// io_policy::kMaxPrefillBytes.
uint64_t
prefill_allowance(const ArraySpec& spec);

/// Prefills `share`'s pool with this writer's own buffers, as many as
/// `allowance` bytes hold, on top of those the pool has, up to `most`
/// buffers in the pool; returns their bytes.
uint64_t
prefill_share(const StagingPools::Share& share, uint64_t allowance, uint64_t most);

/// Prefills up to `count` of `pool`'s buffers, every page faulted in, within
/// `allowance` bytes; returns the bytes they take.
uint64_t
prefill_whole(BufferPool& pool, uint64_t count, uint64_t allowance);

} // namespace zarr
