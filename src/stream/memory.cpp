// The estimate adds up, for each array's levels, the buffers its chunk
// builder and sink hold beyond what the pool's budgets bound (the slab being
// filled, idle and prefilled buffers, shard indexes and packs, the
// downsamplers' planes), then, once for the stream, what its one pool may
// hold: the compute and I/O budgets every array shares, and per thread its
// scratch buffer and codec context. Each term is sized by the function or
// constant its writer uses, so that the estimate follows the code.
#define ZSTD_STATIC_LINKING_ONLY // ZSTD_getCParams, ZSTD_estimateCCtxSize_usingCParams
#include "memory.hh"

#include "../util/buffer_pool.hh"
#include "../zarr/array_writer.hh"
#include "../zarr/chunk_builder.hh"
#include "../zarr/geometry.hh"
#include "../zarr/io_policy.hh"
#include "../zarr/pyramid.hh"
#include "stream.hh"

#include <zstd.h>

#include <algorithm>
#include <variant>

namespace zarr {
namespace {

/// Per stream: what creating and running one touches besides its buffers
/// (metadata documents, the store and its directory cache, the threads'
/// bookkeeping, code pages of the codecs first run). Measured: 2 MiB for
/// one array of small frames, 7 MiB for eight arrays with pyramids and 24
/// threads (tests/python/test_memory_estimate.py); twice that here.
constexpr uint64_t kPerStream = uint64_t{ 8 } << 20;

/// Per thread: the pages of its stack it touches, c-blosc's temporaries of
/// a block per call, and the allocator's per-thread arena they come from.
constexpr uint64_t kPerThread = uint64_t{ 1 } << 20;

/// Bytes per element of the widest downsampling accumulator (reducers.hh:
/// 64-bit sums and doubles).
constexpr uint64_t kAccumulatorBytes = 8;

uint64_t
pages(uint64_t n)
{
    return round_up(n, kBufferAlignment);
}

/// What the levels need beyond their own terms: the largest of each kind
/// of buffer that a running job may hold, and what the shared terms scale
/// with.
struct Shared
{
    uint64_t largest_job = 0;       // bytes of one compute job
    uint64_t largest_io_job = 0;    // bytes of one I/O job
    uint64_t scratch = 0;           // thread_scratch() of a compute job
    uint64_t frame_staging = 0;     // one frame's planes (compressed planes)
    uint64_t group_staging = 0;     // one group's planes (raw planes)
    uint64_t chunk_held = 0;        // an encoded chunk in its segments
    uint64_t segment = 0;           // the largest segment
    uint64_t plane_chunks = 0;      // chunks per slab compressed plane by plane
    uint64_t warm_extra = 0;        // whole chunks warmed beyond the open slab
    uint64_t zstd_context = 0;      // per compute thread, if any level uses zstd
    bool compute_jobs = false;      // some level gives the workers jobs
    bool io_jobs = false;           // some level gives the I/O threads jobs
    uint64_t other_levels = 0;      // levels whose chunks are built whole or raw
    /// Per array: the segments of its levels' slabs of chunks being
    /// compressed plane by plane, each chunk at its worst-case size; and
    /// whether ArrayStream paces its caller on the I/O budget, with every
    /// such level's slabs completing on the same frames, level 0's.
    struct Slabs
    {
        uint64_t bytes = 0;
        uint64_t frame_staging = 0;   // level 0's frame of planes
        uint64_t frames_per_slab = 1; // level 0's
        bool paced = false;
    };
    std::vector<Slabs> slabs;
};

/// The libzstd workspace that compressing `input` bytes with the codec of
/// `spec` takes (a thread's context, or one c-blosc makes for a block), or
/// 0 where it does not compress with zstd.
uint64_t
zstd_workspace(const ArraySpec& spec, uint64_t input)
{
    const codec::ChunkCodec* c = spec.codecs.compressor();
    if (c == nullptr) {
        return 0;
    }
    const auto meta = c->v3_metadata();
    const auto& conf = meta.at("configuration");
    int level = 0;
    if (meta.at("name") == "zstd") {
        level = conf.at("level").get<int>();
    } else if (conf.value("cname", "") == "zstd") {
        level = conf.at("clevel").get<int>();
    } else {
        return 0;
    }
    return ZSTD_estimateCCtxSize_usingCParams(ZSTD_getCParams(level, input, 0));
}

/// Shards that hold chunks of one slab: the product, over the dimensions
/// after the append dimension, of the shards across each.
uint64_t
shards_per_slab(const Geometry& g)
{
    uint64_t n = 1;
    for (size_t d = 1; d < g.ndim(); ++d) {
        n *= ceil_div(g.chunk_counts()[d], g.shard_chunks()[d]);
    }
    return n;
}

/// Whole chunks (whole_chunks.cpp). Own: the slab of chunk buffers being
/// filled; those of complete chunks are in the compute budget.
uint64_t
whole_chunks(const ArraySpec& spec, const Geometry& g, Shared& s)
{
    const uint64_t chunk = pages(g.chunk_bytes());
    // Warming (at creation) brings the pool to a slab and a group ahead;
    // the group ahead is what the first complete group takes in flight.
    const bool more_slabs = g.unbounded() || g.frame_capacity() > g.frames_per_slab();
    if (more_slabs) {
        s.warm_extra += g.chunks_per_slab() / g.groups_per_slab() * chunk;
    }
    const uint64_t per_job =
      std::max<uint64_t>(1, io_policy::kMinJobBytes / g.chunk_bytes()) * g.chunk_bytes();
    s.largest_job = std::max(s.largest_job, per_job);
    s.compute_jobs = true; // chunks are stored by the worker that encodes them
    ++s.other_levels;
    if (spec.codecs.compresses()) {
        s.scratch = std::max<uint64_t>(s.scratch, spec.codecs.encoded_bound(g.chunk_bytes()));
        s.zstd_context = std::max(s.zstd_context, zstd_workspace(spec, g.chunk_bytes()));
    }
    return g.chunks_per_slab() * chunk;
}

/// Chunks compressed plane by plane (plane_chunks.cpp). Own: the frames of
/// planes its staging pool prefills (more than it holds outside the
/// budget: the frame being staged, and the one whose jobs are partly
/// queued). The segments of the slab's chunks being compressed, each at
/// most its worst-case size (BloscPlanes::capacity(), as incompressible
/// data takes), go to the array's Slabs, counted with the I/O budget that
/// complete chunks on their way to storage take (pool_bytes).
uint64_t
compressed_planes(const ArraySpec& spec,
                  const Geometry& g,
                  const codec::BloscPlanes& p,
                  Shared& s)
{
    const uint64_t staging = pages(g.tiles_per_frame() * p.plane_bytes());
    const uint64_t segment = io_policy::segment_bytes(p);
    const uint64_t chunk = ceil_div(p.capacity(), segment) * segment;
    s.frame_staging = std::max(s.frame_staging, staging);
    s.chunk_held = std::max(s.chunk_held, chunk);
    s.segment = std::max(s.segment, segment);
    s.plane_chunks += g.chunks_per_slab();
    s.compute_jobs = s.io_jobs = true;
    // A job takes a frame's planes up to kMinJobBytes and one more plane.
    s.largest_job =
      std::max(s.largest_job, std::min(staging, io_policy::kMinJobBytes + p.plane_bytes()));
    Shared::Slabs& slabs = s.slabs.back();
    slabs.bytes += g.chunks_per_slab() * chunk;
    if (slabs.frame_staging == 0) {
        slabs.frame_staging = staging;
        slabs.frames_per_slab = g.frames_per_slab();
    }
    slabs.paced = slabs.paced && g.frames_per_slab() == slabs.frames_per_slab;
    s.largest_io_job = std::max<uint64_t>(s.largest_io_job, p.capacity());
    s.scratch = std::max<uint64_t>(s.scratch, p.plane_scratch());
    s.zstd_context = std::max(s.zstd_context, zstd_workspace(spec, p.block_bytes()));
    return (io_policy::kStagedFrames + 2) * staging;
}

/// Uncompressed chunks written plane by plane (raw_planes.cpp), by the I/O
/// threads alone. Own: the groups of planes its staging pool prefills (more
/// than the one being staged outside the I/O budget), and (v2) the zeros it
/// pads chunks with. Groups being written are the I/O budget's.
uint64_t
raw_planes(const ArraySpec& spec, const Geometry& g, Shared& s)
{
    const uint64_t plane = g.chunk_plane_bytes();
    const uint64_t group = io_policy::plane_write_frames(plane, g.planes_per_chunk());
    const uint64_t staging = pages(g.tiles_per_frame() * group * plane);
    s.group_staging = std::max(s.group_staging, staging);
    s.largest_io_job = std::max(s.largest_io_job, io_policy::kMinJobBytes + group * plane);
    s.io_jobs = true;
    ++s.other_levels;
    const uint64_t zeros = spec.version == ZarrVersion_2 ? pages(group * plane) : 0;
    return io_policy::kStagedFrames * staging + zeros;
}

/// The v3 shard writer (shard_writer.cpp): indexes of the shards open, those
/// of the slab being filled and of the last, and in a store that writes in
/// place the packs of small chunks: the idle ones it keeps and one being
/// filled per open shard (full ones are in the I/O budget). A pack's pages
/// are touched only as far as chunks under kMinDirectChunk fill it, at most
/// its shard's chunks.
uint64_t
shard_writer(const Geometry& g, bool packs)
{
    const uint64_t open = 2 * shards_per_slab(g);
    uint64_t bytes = open * (16 * g.chunks_per_shard() + 4);
    if (packs) {
        const uint64_t pack =
          std::min<uint64_t>(io_policy::kPackBytes,
                             pages(g.chunks_per_shard() * io_policy::kMinDirectChunk));
        bytes += pack * (io_policy::kIdlePacks + open);
    }
    return bytes;
}

/// The downsampler that makes `to` from `from` (pyramid.cpp): its reduced
/// plane and output frame, and an accumulator per frame of `to` being
/// combined from frames of `from`: those that the frames inside the
/// outermost halved outer dimension reach, kept for reuse.
uint64_t
downsampler(const ArraySpec& from, const ArraySpec& to)
{
    const Geometry f(from.dims, bytes_of(from.dtype));
    const Geometry t(to.dims, bytes_of(to.dtype));
    std::vector<bool> down = downsampled_dims(from, to);
    // A 2-D array's leading dimension of one frame (geometry.hh).
    down.insert(down.begin(), f.ndim() - std::min(f.ndim(), down.size()), false);
    uint64_t open = 0;
    for (size_t d = 0; d + 2 < f.ndim(); ++d) {
        if (open != 0) {
            open *= std::max<uint64_t>(1, t.sizes()[d]);
        } else if (down[d]) {
            open = 1;
        }
    }
    const uint64_t elements = t.frame_height() * t.frame_width();
    return 2 * t.frame_bytes() + open * elements * kAccumulatorBytes;
}

/// One level's own terms (see each function); `in_place`: the store writes
/// in place (the filesystem), `part`: S3's part size, else 0.
uint64_t
level_bytes(const ArraySpec& level,
            const std::optional<codec::BloscPlanes>& planes,
            bool in_place,
            uint64_t part,
            Shared& s)
{
    const Geometry g(level.dims, bytes_of(level.dtype), level.storage_order);
    uint64_t bytes = 0;
    bool small_chunks = g.chunk_bytes() < io_policy::kMinDirectChunk;
    switch (choose_chunk_building(level, g, planes, in_place)) {
        case ChunkBuilding::whole:
            bytes += whole_chunks(level, g, s);
            small_chunks = small_chunks || level.codecs.compresses();
            break;
        case ChunkBuilding::compressed_planes:
            bytes += compressed_planes(level, g, *planes, s);
            small_chunks = true;
            break;
        case ChunkBuilding::raw_planes:
            bytes += raw_planes(level, g, s);
            small_chunks = false; // placed, never packed
            break;
    }
    if (level.version == ZarrVersion_3) {
        bytes += shard_writer(g, in_place && small_chunks);
        s.io_jobs = s.io_jobs || (in_place && small_chunks); // full packs
    }
    if (part != 0 && level.version == ZarrVersion_3) {
        // S3 (multipart_sink.cpp): per open shard the bytes not yet cut
        // into a part, and the chunks that arrive ahead of a gap in it, at
        // most a slab of encoded chunks. Parts uploading are the threads'.
        bytes += 2 * shards_per_slab(g) * part +
                 g.chunks_per_slab() * level.codecs.encoded_bound(g.chunk_bytes());
    }
    return bytes;
}

/// The bytes that the slabs of chunks compressed plane by plane and the I/O
/// jobs hold together: each slab at its worst case and the I/O budget
/// (`io`) full at once; or, where every array paces its caller on the I/O
/// budget (ArrayStream: at a fraction x of its slab, the caller waits until
/// the I/O jobs hold at most (1 - x) of the budget), per array its slab
/// filled to x and what the budget then leaves of the last slab, with the
/// workers up to `in_flight` bytes of frames behind the caller (whose last
/// slab may still be going to the I/O threads early in the next).
uint64_t
slabs_and_io(const ThreadPool::Config& pool, const Shared& s, uint64_t in_flight, uint64_t io)
{
    uint64_t open = 0;
    bool paced = s.other_levels == 0;
    uint64_t min_period = UINT64_MAX;
    for (const Shared::Slabs& a : s.slabs) {
        open += a.bytes;
        paced = paced && a.paced && a.bytes > 0;
        min_period = std::min(min_period, a.frames_per_slab);
    }
    const uint64_t unpaced = open + io;
    if (!paced || io == 0) {
        return unpaced;
    }
    const double budget = static_cast<double>(io);
    double bytes = budget / static_cast<double>(min_period); // what a wait leaves
    for (const Shared::Slabs& a : s.slabs) {
        // Frames queued or partly compressed, and the one being staged.
        const double behind =
          static_cast<double>(in_flight / a.frame_staging + pool.threads + 2) /
          static_cast<double>(a.frames_per_slab);
        if (behind >= 1) {
            return unpaced;
        }
        const double slab = static_cast<double>(a.bytes);
        bytes += slab * std::max(1 + behind, 2 - slab / budget);
    }
    return std::min(unpaced, static_cast<uint64_t>(bytes));
}

/// What the stream's one pool may hold, counted once for every array: see
/// each term.
uint64_t
pool_bytes(const ThreadPool::Config& pool, const Shared& s, uint64_t part)
{
    uint64_t in_flight = 0;
    if (s.compute_jobs) {
        // Compute jobs hold the buffers their bytes count (whole chunks,
        // frames of staged planes): the budget, or one larger job alone, and
        // no more than the queue and the threads take.
        in_flight = std::min(std::max(uint64_t{ pool.byte_budget }, s.largest_job),
                             (pool.max_queued_jobs + pool.threads) * s.largest_job);
    }
    uint64_t io = 0;
    if (s.io_jobs) {
        // I/O jobs: the budget (a chunk's encoded bytes, a pack's, planes
        // written in place), or one larger job alone.
        io = std::max(uint64_t{ pool.io_budget }, s.largest_io_job);
    }
    uint64_t bytes = slabs_and_io(pool, s, in_flight, io);
    if (s.compute_jobs) {
        // Warming fills the pools of whole chunks before any is in flight.
        bytes += std::max(in_flight, s.warm_extra);
        // Beyond the budget, each running job may keep a frame of planes
        // whose other jobs are done (partly counted), and a chunk it
        // compresses the last plane of, or waits to hand to the I/O threads
        // (outside the I/O budget, until there is room).
        bytes += uint64_t{ pool.threads } * (s.frame_staging + s.chunk_held);
    }
    if (s.io_jobs) {
        // Chunks held in segments also hold the unused end of their last
        // segment, for each chunk of a group at most (the last group's
        // writes end before the next group completes: the pacing); each
        // I/O thread may keep a group of planes whose other writes are done
        // (partly counted).
        bytes += std::min(pool.io_budget / io_policy::kMinDirectChunk + 1, s.plane_chunks) *
                 s.segment;
        bytes += uint64_t{ pool.io_threads } * s.group_staging;
    }
    // Every thread: its allowance, and on S3 the part it uploads or the
    // object it puts whole; compute threads keep their scratch and libzstd
    // contexts (their own and c-blosc's of a block).
    bytes += uint64_t{ pool.threads + pool.io_threads } * (kPerThread + part);
    bytes += uint64_t{ pool.threads } * (pages(s.scratch) + 2 * s.zstd_context);
    return bytes;
}

} // namespace

uint64_t
estimate_max_memory(const StreamPlan& plan)
{
    // As Stream sizes its pool and builders: the same plans, the same pool.
    std::vector<std::vector<std::optional<codec::BloscPlanes>>> planes;
    for (const auto& array : plan.arrays) {
        planes.emplace_back();
        for (const auto& level : array.levels) {
            planes.back().push_back(ArrayWriter::plane_plan(level));
        }
    }
    const ThreadPool::Config pool = shared_pool_config(plan, planes);
    // The filesystem store writes in place (fs_store.cpp); S3 writes
    // objects front to back, in parts.
    const bool in_place = std::holds_alternative<storage::FilesystemStoreConfig>(plan.store);
    const auto* s3 = std::get_if<storage::S3StoreConfig>(&plan.store);
    const uint64_t part = s3 != nullptr ? s3->part_size : 0;

    Shared shared;
    uint64_t bytes = kPerStream;
    for (size_t a = 0; a < plan.arrays.size(); ++a) {
        const auto& levels = plan.arrays[a].levels;
        // ArrayStream paces the caller on the I/O budget where level 0's
        // chunks are compressed plane by plane in a store that writes in
        // place.
        shared.slabs.push_back({});
        shared.slabs.back().paced = in_place && planes[a].front().has_value();
        // The partial frame an append leaves.
        bytes += Geometry(levels.front().dims, bytes_of(levels.front().dtype)).frame_bytes();
        for (size_t k = 0; k < levels.size(); ++k) {
            bytes += level_bytes(levels[k], planes[a][k], in_place, part, shared);
            if (k > 0) {
                bytes += downsampler(levels[k - 1], levels[k]);
            }
        }
    }
    return bytes + pool_bytes(pool, shared, part);
}

} // namespace zarr
