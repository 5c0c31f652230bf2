#include "memory.hh"

#include "../util/buffer_pool.hh"
#include "../zarr/array_writer.hh"
#include "../zarr/geometry.hh"
#include "../zarr/io_policy.hh"

#include <algorithm>

namespace zarr {
namespace {

/// Per worker thread: a c-blosc or libzstd context (libzstd's largest,
/// at level 19 and up, take tens of MiB), and the pages of its stack.
constexpr uint64_t kPerThread = uint64_t{ 48 } << 20;

/// Per stream: the store, metadata documents, allocator arenas.
constexpr uint64_t kPerStream = uint64_t{ 64 } << 20;

uint64_t
level_bytes(const ArraySpec& level, unsigned max_threads)
{
    const Geometry g(level.dims, bytes_of(level.dtype));
    const uint64_t chunk = round_up(g.chunk_bytes(), kBufferAlignment);
    const uint64_t encoded = round_up(level.codecs.encoded_bound(g.chunk_bytes()), kBufferAlignment);
    // Whole chunks: the slab being filled, the pool's idle buffers (two
    // slabs at most) and their encoded copies. Chunks built plane by plane
    // hold less: a few frames of planes and the segments of a slab.
    uint64_t bytes = g.chunks_per_slab() * (3 * chunk + 2 * encoded);
    // The downsampler's planes (a few frames of the level).
    bytes += 4 * g.frame_bytes();
    if (level.version == ZarrVersion_3) {
        // Packs of small chunks, idle and being filled, per I/O thread.
        bytes += io_policy::kPackBytes * (io_policy::kIdlePacks + 2 * uint64_t{ max_threads });
        // Shard indexes: 16 bytes per chunk of every open shard.
        bytes += 16 * g.chunks_per_slab() * g.chunks_per_shard();
    }
    return bytes;
}

} // namespace

uint64_t
estimate_max_memory(const StreamPlan& plan)
{
    uint64_t bytes = kPerStream + 3 * uint64_t{ plan.max_threads } * kPerThread;
    for (const auto& array : plan.arrays) {
        const ArraySpec& full = array.levels.front();
        bytes += Geometry(full.dims, bytes_of(full.dtype)).frame_bytes(); // staging
        for (const auto& level : array.levels) {
            bytes += level_bytes(level, plan.max_threads);
        }
        std::vector<std::optional<codec::BloscPlanes>> planes;
        for (const auto& level : array.levels) {
            planes.push_back(ArrayWriter::plane_plan(level));
        }
        // What the pool may have in flight beyond the buffers above.
        const ThreadPool::Config c = io_policy::pool_config(array.levels, planes, plan.max_threads);
        bytes += c.byte_budget + c.io_budget;
    }
    return bytes;
}

} // namespace zarr
