#include "io_policy.hh"

#include "../util/buffer_pool.hh"
#include "geometry.hh"

#include <algorithm>
#include <cassert>

namespace zarr::io_policy {

size_t
segment_bytes(const codec::BloscPlanes& p)
{
    return static_cast<size_t>(round_up(std::max({ kMinSegmentBytes,
                                                   2 * p.plane_scratch(),
                                                   p.begin() + p.plane_room() }),
                                        kBufferAlignment));
}

uint64_t
plane_write_frames(uint64_t plane_bytes, uint64_t planes_per_chunk)
{
    return std::min(planes_per_chunk, ceil_div(kMinPlaneWrite, plane_bytes));
}

uint64_t
bytes_in_flight(const ArraySpec& spec, bool planes)
{
    const Geometry g(spec.dims, bytes_of(spec.dtype));
    if (planes) {
        return kStagedFrames * g.tiles_per_frame() * g.chunk_plane_bytes();
    }
    return g.chunks_per_slab() * g.chunk_bytes();
}

ThreadPool::Config
pool_config(std::span<const ArraySpec> levels,
            std::span<const std::optional<codec::BloscPlanes>> plans,
            unsigned max_threads)
{
    assert(!levels.empty() && levels.size() == plans.size());
    const Geometry geometry(levels.front().dims, bytes_of(levels.front().dtype));
    // Jobs waiting for a worker may hold as much memory as each level
    // needs to keep the workers busy while the caller goes on: for chunks
    // compressed whole, a slab (the caller fills the next slab while the
    // last one is compressed and written); for chunks compressed plane by
    // plane, a few frames. The caller waits (backpressure) beyond that.
    uint64_t in_flight = 0;
    uint64_t slabs = 0;
    for (size_t k = 0; k < levels.size(); ++k) {
        in_flight += bytes_in_flight(levels[k], plans[k].has_value());
        const Geometry g(levels[k].dims, bytes_of(levels[k].dtype));
        slabs += g.chunks_per_slab() * g.chunk_bytes();
    }
    in_flight = std::max(in_flight, 2 * max_threads * geometry.chunk_bytes());
    // Writes are synchronous (direct I/O, S3 requests): twice as many
    // threads as max_threads, of which max_threads compress at once, keep
    // the cores busy while others wait on storage. Writes go to
    // max_threads I/O threads, which may hold half a slab's worth of raw
    // bytes (uncompressed planes gain nothing from more), or three quarters
    // where chunks are compressed plane by plane and all complete on one
    // frame per slab (t/y/x, not t/c/z/y/x's groups of z: those gain
    // nothing from it but memory). Their burst of writes (about half a
    // slab's raw bytes for LZ4 on microscopy data) has to fit beside what
    // the disk has not yet written of the last slab: with half a slab, the
    // caller's pacing waits until the last slab is nearly all written
    // before each burst (benchmarks/README.md: io-budget).
    const bool slab_bursts = plans.front().has_value() && geometry.groups_per_slab() == 1;
    const uint64_t io_budget = slab_bursts ? slabs / 4 * 3 : slabs / 2;
    return ThreadPool::Config{
        .threads = 2 * max_threads,
        .max_queued_jobs =
          static_cast<size_t>(geometry.chunks_per_slab() * levels.size() + 2 * max_threads),
        .byte_budget = static_cast<size_t>(in_flight),
        .compute_slots = max_threads,
        .io_threads = max_threads,
        .io_budget = static_cast<size_t>(io_budget),
    };
}

} // namespace zarr::io_policy
