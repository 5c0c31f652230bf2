#include "array_writer.hh"

#include "../codec/blosc1.hh"
#include "../codec/crc32c.hh"
#include "../util/atomic_max.hh"
#include "../util/little_endian.hh"
#include "../util/log.hh"
#include "../util/row_copy.hh"
#include "metadata.hh"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <limits>
#include <span>

namespace zarr {

/// Small encoded chunks of one shard, back to back in one buffer, written
/// together (see pack_chunk).
struct ArrayWriter::Pack
{
    Buffer bytes;
    size_t used = 0;
    std::vector<IndexEntry> chunks;
};

struct ArrayWriter::Shard
{
    std::vector<uint64_t> key; // shard coordinates
    std::unique_ptr<storage::Sink> sink;
    std::atomic<uint64_t> end{ 0 }; // bytes reserved so far
    std::mutex mutex;
    std::vector<uint64_t> index; // (offset, nbytes) per inner chunk
    uint64_t written = 0;
    uint64_t expected = 0;
    // Chunks handed to store_chunk (the small ones counted under
    // pack_mutex), and the pack of small chunks being filled.
    std::atomic<uint64_t> arrived{ 0 };
    std::mutex pack_mutex;
    std::shared_ptr<Pack> pack;
};

struct ArrayWriter::PlaneChunk
{
    std::vector<uint64_t> coords;
    uint32_t submitted = 0;          // tasks submitted (appending thread)
    std::atomic<uint32_t> turn{ 0 }; // the task that may run next
    // Touched only by the task whose turn it is:
    std::vector<Buffer> segments; // the chunk's bytes, back to back
    size_t end = 0;
    uint32_t next_plane = 0;
};

struct ArrayWriter::RawChunk
{
    std::vector<uint64_t> coords;
    std::shared_ptr<Shard> shard;
    uint64_t offset = 0;                 // in the shard
    uint64_t submitted = 0;              // planes handed out (appending thread)
    uint64_t next_plane = 0;             // one past the last of them (appending thread)
    std::once_flag opened;               // v2: the file, by the first write
    std::atomic<uint64_t> stored{ 0 };   // planes written or counted as padding
};

struct ArrayWriter::PlaneBatch
{
    std::shared_ptr<Buffer> staging; // the frame's planes (shared by batches)
    std::vector<PlaneTask> tasks;
    size_t bytes = 0;
};

namespace {

/// Frames of planes that may wait for the workers (compression plane by
/// plane): enough to keep every core busy, far less than a slab.
constexpr uint64_t kStagedFrames = 3;

/// Bytes of buffers an array prefills at creation, their pages faulted in,
/// at most (see the ArrayWriter constructor): about 0.1 s of page faults
/// here. What a stream with larger frames or chunks needs beyond that is
/// faulted in as it first needs it.
constexpr uint64_t kMaxPrefillBytes = uint64_t{ 256 } << 20;

uint64_t
plane_bytes_of(const Geometry& g)
{
    const size_t n = g.ndim();
    return g.chunk_shape()[n - 2] * g.chunk_shape()[n - 1] * g.bytes_per_element();
}

/// Planes per chunk: the product of its outer (non y/x) extents.
uint64_t
planes_per_chunk_of(const Geometry& g)
{
    return g.chunk_bytes() / plane_bytes_of(g);
}

/// Compressed chunks at least this large are written by direct I/O (see
/// store_chunk). Smaller ones stay buffered: padding would waste a larger
/// share of the disk, and a synchronous write of a few KiB holds a worker
/// for little gain.
constexpr size_t kMinDirectChunk = size_t{ 256 } << 10;

/// Small chunks of a shard are packed into buffers of this size, each
/// written by direct I/O when it fills or when the shard's last chunk
/// arrives: a few large writes in place of many small buffered ones, which
/// the page cache throttled in long runs, and one block of padding per pack
/// instead of one per chunk.
constexpr size_t kPackBytes = size_t{ 4 } << 20;

/// Claims `n` bytes at the end of a shard (`end`: the bytes claimed so far),
/// from the next multiple of `align` if that is not 0; returns where.
uint64_t
claim(std::atomic<uint64_t>& end, uint64_t n, size_t align)
{
    if (align == 0) {
        return end.fetch_add(n);
    }
    uint64_t at = end.load();
    uint64_t offset = 0;
    do {
        offset = round_up(at, align);
    } while (!end.compare_exchange_weak(at, offset + n));
    return offset;
}

/// Chunks handed to a worker in one job: at least this many bytes.
constexpr uint64_t kMinJobBytes = uint64_t{ 1 } << 20;

/// Uncompressed chunks written plane by plane: each request writes a
/// chunk's planes of this many bytes at least (a few frames' worth). Direct
/// writes of 128 KiB at scattered offsets ran at 60-80% of the disk here,
/// those of 512 KiB at its full speed.
constexpr uint64_t kMinPlaneWrite = uint64_t{ 512 } << 10;

/// A page-aligned scratch buffer of at least `n` bytes (rounded up to a
/// page) for the calling worker thread, valid until its next call: grown
/// once, then reused, so the steady state allocates nothing. Page aligned,
/// so that a chunk compressed into it can go to disk by direct I/O.
std::span<uint8_t>
thread_scratch(size_t n)
{
    thread_local AlignedBytes scratch;
    thread_local size_t size = 0;
    if (size < n) {
        scratch.reset();
        size = 0;
        scratch = allocate_aligned(round_up(n, kBufferAlignment));
        size = round_up(n, kBufferAlignment);
    }
    return { scratch.get(), size };
}

/// Buffers warmed per job (see the ArrayWriter constructor).
constexpr size_t kWarmStep = 4;

void
warm_in_steps(ThreadPool& pool, std::shared_ptr<BufferPool> buffers, size_t target)
{
    // Never blocks: a full queue just ends the warming early.
    pool.try_submit(
      [&pool, buffers, target] {
          if (buffers->warm(target, kWarmStep)) {
              warm_in_steps(pool, buffers, target);
          }
      });
}

/// Prefills up to `count` of `pool`'s buffers, every page faulted in, within
/// kMaxPrefillBytes; returns the bytes they take.
uint64_t
prefill_whole(BufferPool& pool, uint64_t count)
{
    const uint64_t size = pool.buffer_size();
    count = std::min(count, kMaxPrefillBytes / size);
    pool.prefill(static_cast<size_t>(count), static_cast<size_t>(size));
    return count * size;
}

} // namespace

ArrayWriter::ArrayWriter(const ArraySpec& spec,
                         storage::Store& store,
                         ThreadPool& pool,
                         FirstError& errors)
  : ArrayWriter(spec, store, pool, errors, plane_plan(spec))
{
}

ArrayWriter::ArrayWriter(ArraySpec spec,
                         storage::Store& store,
                         ThreadPool& pool,
                         FirstError& errors,
                         std::optional<codec::BloscPlanes> planes)
  : spec_(std::move(spec))
  , geometry_(spec_.dims, bytes_of(spec_.dtype))
  , store_(store)
  , pool_(pool)
  , errors_(errors)
{
    const auto& g = geometry_;
    const size_t n = g.ndim();
    const uint64_t bpe = g.bytes_per_element();
    const uint64_t chy = g.chunk_shape()[n - 2];
    const uint64_t chx = g.chunk_shape()[n - 1];
    const uint64_t cy = g.chunk_counts()[n - 2];
    const uint64_t cx = g.chunk_counts()[n - 1];

    chunk_row_bytes_ = chx * bpe;
    frame_row_bytes_ = g.frame_width() * bpe;
    for (uint64_t ty = 0; ty < cy; ++ty) {
        for (uint64_t tx = 0; tx < cx; ++tx) {
            const uint64_t y0 = ty * chy;
            const uint64_t x0 = tx * chx;
            tiles_.push_back(Tile{
              .src_offset = (y0 * g.frame_width() + x0) * bpe,
              .rows = std::min(chy, g.frame_height() - y0),
              .row_bytes = std::min(chx, g.frame_width() - x0) * bpe,
              .slab_offset = ty * cx + tx,
            });
        }
    }

    chunk_strides_.assign(n - 2, 1);
    for (size_t d = 0; d + 2 < n; ++d) {
        for (size_t e = d + 1; e < n; ++e) {
            chunk_strides_[d] *= g.chunk_shape()[e];
        }
    }

    coords_.resize(n - 2);
    if (spec_.version == ZarrVersion_2) {
        objects_per_row_ = g.chunks_per_slab();
        row_extent_ = g.chunk_shape()[0];
    } else {
        objects_per_row_ = 1;
        for (size_t d = 1; d < n; ++d) {
            objects_per_row_ *= ceil_div(g.chunk_counts()[d], g.shard_chunks()[d]);
        }
        row_extent_ = g.chunk_shape()[0] * g.shard_chunks()[0];
        if (store_.writes_in_place()) {
            packs_ = BufferPool::create(kPackBytes, 4);
        }
    }
    planes_ = std::move(planes);
    if (planes_) {
        // Encoded chunks take segments as they grow, and give them back once
        // written: memory follows the compressed bytes open and in flight.
        open_planes_.resize(g.chunks_per_slab());
        staging_ = BufferPool::create(tiles_.size() * planes_->plane_bytes(),
                                      kStagedFrames + 2);
        segment_bytes_ = segment_bytes(*planes_);
        segments_ = BufferPool::create(
          segment_bytes_,
          static_cast<size_t>(2 * g.chunks_per_slab() *
                              ceil_div(planes_->capacity(), segment_bytes_)));
        // Made now, their pages faulted in, instead of by the first frames:
        // a first touch costs about 0.7 s per GiB here, and the first group
        // of chunks is compressed before any write can start, so whatever
        // it spends is lost to the disk (lz4-v3: 110 instead of 76 ms for
        // the first 32 frames). The staging buffers are filled on every
        // frame: all of them. Segments: as many, and as much of them, as the
        // first group of chunks fills if the data compresses to half (those
        // it does not need are released after the second group; see
        // scatter_planes).
        // At most kMaxPrefillBytes in all.
        const uint64_t left = kMaxPrefillBytes - prefill_whole(*staging_, kStagedFrames + 2);
        const uint64_t chunks_per_group = g.chunks_per_slab() / g.groups_per_slab();
        const uint64_t half = g.chunk_bytes() / 2;
        const uint64_t full = std::min(chunks_per_group * (half / segment_bytes_),
                                       left / segment_bytes_);
        segments_->prefill(static_cast<size_t>(full), segment_bytes_);
        const uint64_t rest = half % segment_bytes_;
        if (rest != 0) {
            const uint64_t partial =
              std::min(chunks_per_group, (left - full * segment_bytes_) / rest);
            segments_->prefill(static_cast<size_t>(full + partial), static_cast<size_t>(rest));
        }
        log::debug("array '", spec_.key, "': chunks compressed plane by plane (",
                   planes_->planes(), " planes of ", planes_->plane_bytes(),
                   " bytes, blocks of ", planes_->block_bytes(), " bytes",
                   planes_->shuffles_staged() ? ", shuffled as staged)" : ")");
        return;
    }

    const uint64_t plane = plane_bytes_of(g);
    const uint64_t planes_per_chunk = planes_per_chunk_of(g);
    if (!spec_.codecs.compresses() && store_.writes_in_place() &&
        plane % kBufferAlignment == 0 && planes_per_chunk > 1) {
        // Every chunk has a fixed size and so a fixed place in its shard
        // (v3) or its own file (v2): its planes are written there as the
        // frames arrive, and writes start with the first frames instead of
        // when a slab of chunks completes.
        write_group_ = std::min(planes_per_chunk, ceil_div(kMinPlaneWrite, plane));
        open_raw_.resize(g.chunks_per_slab());
        staging_ = BufferPool::create(tiles_.size() * write_group_ * plane, kStagedFrames);
        prefill_whole(*staging_, kStagedFrames); // as for planes
        log::debug("array '", spec_.key, "': chunks written plane by plane (",
                   write_group_, " frames of ", plane, "-byte planes per write)");
        return;
    }

    open_.resize(g.chunks_per_slab());
    // Keep enough idle buffers to refill a whole slab without allocating.
    buffers_ = BufferPool::create(g.chunk_bytes(), 2 * g.chunks_per_slab());

    // The steady state holds a slab of open chunk buffers plus those of the
    // last completed group (all chunks of the slab for t/y/x; one
    // (c, z-chunk) of them for t/c/z/y/x) while they are compressed. Fault
    // them in on the workers, which have little else to do until the first
    // chunks complete, instead of on the appending thread: first-touch page
    // faults cost about as much as the copy itself. A few buffers per job,
    // requeued behind whatever chunks arrived meanwhile, so that warming
    // never holds up a write.
    const uint64_t slabs_to_come =
      g.unbounded() ? 2 : ceil_div(g.frame_capacity(), g.frames_per_slab());
    const size_t target = static_cast<size_t>(
      slabs_to_come > 1 ? g.chunks_per_slab() + g.chunks_per_slab() / g.groups_per_slab()
                        : g.chunks_per_slab());
    for (unsigned i = 0; i < pool_.n_threads(); ++i) {
        warm_in_steps(pool_, buffers_, target);
    }
}

ArrayWriter::~ArrayWriter() = default;

std::optional<codec::BloscPlanes>
ArrayWriter::plane_plan(const ArraySpec& spec)
{
    if (!spec.codecs.compresses()) {
        return std::nullopt;
    }
    const Geometry g(spec.dims, bytes_of(spec.dtype));
    const uint64_t plane = plane_bytes_of(g);
    return spec.codecs.plane_encoder(static_cast<size_t>(plane),
                                     static_cast<size_t>(planes_per_chunk_of(g)));
}

uint64_t
ArrayWriter::bytes_in_flight(const ArraySpec& spec, bool planes)
{
    const Geometry g(spec.dims, bytes_of(spec.dtype));
    if (planes) {
        return kStagedFrames * g.tiles_per_frame() * plane_bytes_of(g);
    }
    return g.chunks_per_slab() * g.chunk_bytes();
}

uint64_t
ArrayWriter::append_extent() const noexcept
{
    if (!geometry_.unbounded()) {
        return geometry_.sizes()[0];
    }
    return ceil_div(frames(), geometry_.frames_per_append_index());
}

void
ArrayWriter::append_frame(const uint8_t* frame)
{
    assert(frames_ < geometry_.frame_capacity());
    // Counted first: a worker that completes this frame's row caps the
    // published extent by it.
    ++frames_;
    if (planes_) {
        scatter_planes(frame);
    } else if (write_group_ != 0) {
        stage_raw_planes(frame);
    } else {
        scatter(frame);
    }
}

Buffer&
ArrayWriter::open_chunk(uint64_t slab_index)
{
    Buffer& buffer = open_[slab_index];
    if (!buffer) {
        buffer = buffers_->acquire();
        // Recycled buffers hold old data: a chunk that reaches past the
        // array's end has padding that no frame overwrites.
        if (geometry_.is_edge_chunk(geometry_.chunk_coords(open_slab_, slab_index))) {
            std::memset(buffer.data(), 0, buffer.size());
        }
    }
    return buffer;
}

ArrayWriter::Placement
ArrayWriter::place_frame()
{
    const auto& g = geometry_;
    const size_t n_outer = g.ndim() - 2;
    const auto& chunk = g.chunk_shape();
    const auto& sizes = g.sizes();
    g.frame_coords(scattered_, coords_.data());

    const uint64_t slab = coords_[0] / chunk[0];
    if (slab != open_slab_) {
        assert(std::none_of(open_.begin(), open_.end(), [](const Buffer& b) {
            return static_cast<bool>(b);
        }));
        assert(std::none_of(open_planes_.begin(), open_planes_.end(),
                            [](const auto& c) { return static_cast<bool>(c); }));
        open_slab_ = slab;
    }

    uint64_t outer_chunk = 0;
    uint64_t local = 0;
    bool completes = true;
    for (size_t d = 0; d < n_outer; ++d) {
        if (d > 0) {
            outer_chunk = outer_chunk * g.chunk_counts()[d] + coords_[d] / chunk[d];
        }
        const uint64_t within = coords_[d] % chunk[d];
        local += within * chunk_strides_[d];
        const bool last_in_chunk = within == chunk[d] - 1;
        const bool last_in_array = sizes[d] != 0 && coords_[d] == sizes[d] - 1;
        completes = completes && (last_in_chunk || last_in_array);
    }
    return Placement{ .base = outer_chunk * g.tiles_per_frame(),
                      .local_bytes = local * g.bytes_per_element(),
                      .completes = completes };
}

void
ArrayWriter::scatter(const uint8_t* frame)
{
    const auto [base, local_bytes, completes] = place_frame();

    for (const Tile& tile : tiles_) {
        const uint64_t slab_index = base + tile.slab_offset;
        if (frame == nullptr && !open_[slab_index]) {
            continue; // padding only matters for chunks holding data
        }
        uint8_t* dst = open_chunk(slab_index).data() + local_bytes;
        if (frame != nullptr) {
            copy_rows(dst, chunk_row_bytes_, frame + tile.src_offset,
                      frame_row_bytes_, tile.rows, tile.row_bytes);
        } else {
            for (uint64_t r = 0; r < tile.rows; ++r) {
                std::memset(dst, 0, tile.row_bytes);
                dst += chunk_row_bytes_;
            }
        }
    }
    finish_streaming_copies();
    ++scattered_;

    if (completes) {
        submit_chunks(base);
    }
}

void
ArrayWriter::scatter_planes(const uint8_t* frame)
{
    const auto [base, local_bytes, completes] = place_frame();
    const size_t plane_bytes = planes_->plane_bytes();
    const auto plane = static_cast<uint32_t>(local_bytes / plane_bytes);

    // The frame's planes, back to back in tile order.
    auto staging = std::make_shared<Buffer>(staging_->acquire());
    stage_planes(frame, staging->data(), 1);
    ++scattered_;

    const auto new_batch = [&] {
        auto batch = std::make_shared<PlaneBatch>();
        batch->staging = staging;
        return batch;
    };
    auto batch = new_batch();
    for (size_t i = 0; i < tiles_.size(); ++i) {
        auto& open = open_planes_[base + tiles_[i].slab_offset];
        if (!open) {
            open = std::make_shared<PlaneChunk>();
            open->coords =
              geometry_.chunk_coords(open_slab_, base + tiles_[i].slab_offset);
        }
        batch->tasks.push_back(PlaneTask{ .chunk = open,
                                          .seq = open->submitted++,
                                          .plane = plane,
                                          .last = completes,
                                          .src = staging->data() + i * plane_bytes });
        batch->bytes += plane_bytes;
        if (completes) {
            open.reset();
        }
        if (batch->bytes >= kMinJobBytes) { // as for whole chunks
            submit_planes(std::move(batch));
            batch = new_batch();
        }
    }
    submit_planes(std::move(batch));
    if (completes && ++groups_completed_ == 2) {
        // Two groups were open at once by now (the second filled while the
        // first was written): prefilled segments that neither took are
        // more than this data needs.
        segments_->release_never_used();
    }
}

void
ArrayWriter::stage_planes(const uint8_t* frame, uint8_t* dst, size_t stride) const
{
    // A tile at the right or bottom edge of the frame covers only part of
    // its chunk's plane: the rest is zeros.
    const uint64_t plane_bytes = plane_bytes_of(geometry_);
    for (size_t i = 0; i < tiles_.size(); ++i) {
        const Tile& tile = tiles_[i];
        uint8_t* plane = dst + i * stride * plane_bytes;
        if (tile.rows * chunk_row_bytes_ != plane_bytes ||
            tile.row_bytes != chunk_row_bytes_) {
            std::memset(plane, 0, plane_bytes);
        }
        if (planes_) {
            // As the workers compress it: maybe shuffled already.
            planes_->stage(plane, chunk_row_bytes_, frame + tile.src_offset,
                           frame_row_bytes_, tile.rows, tile.row_bytes);
        } else {
            copy_rows(plane, chunk_row_bytes_, frame + tile.src_offset, frame_row_bytes_,
                      tile.rows, tile.row_bytes);
        }
    }
    finish_streaming_copies();
}

void
ArrayWriter::stage_raw_planes(const uint8_t* frame)
{
    const auto [base, local_bytes, completes] = place_frame();
    const uint64_t plane_bytes = plane_bytes_of(geometry_);
    // A group holds consecutive planes of the same chunks; a frame of other
    // chunks (t/c/z/y/x with several channels per chunk) starts a new one.
    if (group_ && (base != group_base_ ||
                   local_bytes != group_local_bytes_ + group_frames_ * plane_bytes)) {
        write_group(false);
    }
    if (!group_) {
        group_ = std::make_shared<Buffer>(staging_->acquire());
        group_base_ = base;
        group_local_bytes_ = local_bytes;
        group_frames_ = 0;
    }
    // Pace the caller: the group's writes will need room in the I/O
    // budget; wait for a frame's share of it on every frame, instead of
    // for all of it on the frame that completes the group.
    const size_t share = static_cast<size_t>((group_frames_ + 1) * group_->size() / write_group_);
    const size_t budget = pool_.io_budget();
    pool_.wait_for_io_bytes_at_most(budget > share ? budget - share : 0);
    // Each chunk's planes of the group together: one write per chunk.
    stage_planes(frame, group_->data() + group_frames_ * plane_bytes, write_group_);
    ++group_frames_;
    ++scattered_;
    if (completes || group_frames_ == write_group_) {
        write_group(completes);
    }
}

void
ArrayWriter::write_group(bool completes)
{
    const auto& g = geometry_;
    const uint64_t plane_bytes = plane_bytes_of(g);
    const uint64_t n = group_frames_ * plane_bytes;
    struct Write
    {
        std::shared_ptr<RawChunk> chunk;
        const uint8_t* src;
        uint64_t at;      // offset in the shard (v3) or chunk file (v2)
        uint64_t planes;  // planes this write stores, padding included
    };
    const std::shared_ptr<Buffer> staging = std::move(group_);
    auto batch = std::make_shared<std::vector<Write>>();
    const auto submit = [&] {
        const size_t bytes = static_cast<size_t>(batch->size() * n);
        pool_.submit_io(
          [this, staging, batch, n] {
              for (const Write& w : *batch) {
                  if (errors_.failed()) {
                      return; // the stream already failed
                  }
                  chunk_file(*w.chunk).write(w.at, w.src, n);
                  raw_planes_stored(*w.chunk, w.planes);
              }
          },
          bytes);
        batch = std::make_shared<std::vector<Write>>();
    };
    for (size_t i = 0; i < tiles_.size(); ++i) {
        const uint64_t slab_index = group_base_ + tiles_[i].slab_offset;
        auto& open = open_raw_[slab_index];
        if (!open) {
            auto chunk = std::make_shared<RawChunk>();
            chunk->coords = g.chunk_coords(open_slab_, slab_index);
            try {
                if (spec_.version == ZarrVersion_2) {
                    // A file of its own, whole (see pad_raw_chunk), opened
                    // by its first write (see chunk_file).
                    auto file = std::make_shared<Shard>();
                    file->key = chunk->coords;
                    file->expected = 1;
                    chunk->shard = std::move(file);
                } else {
                    chunk->shard = shard_for(shard_of(chunk->coords));
                }
            } catch (...) {
                errors_.record_current(); // the next append reports it
                return;
            }
            if (spec_.version == ZarrVersion_3) {
                // In the shard, the chunks inside the array, in index
                // order; the index follows the last of them.
                chunk->offset = g.rank_in_shard(chunk->coords) * g.chunk_bytes();
                raise_to(chunk->shard->end, chunk->offset + g.chunk_bytes());
            }
            open = std::move(chunk);
        }
        open->submitted += group_frames_;
        open->next_plane = group_local_bytes_ / plane_bytes + group_frames_;
        uint64_t planes = group_frames_;
        if (completes) {
            planes += pad_raw_chunk(open);
        }
        batch->push_back(Write{ .chunk = open,
                                .src = staging->data() + i * write_group_ * plane_bytes,
                                .at = open->offset + group_local_bytes_,
                                .planes = planes });
        if (completes) {
            open.reset();
        }
        if (batch->size() * n >= kMinJobBytes) {
            submit();
        }
    }
    if (!batch->empty()) {
        submit();
    }
}

storage::Sink&
ArrayWriter::chunk_file(RawChunk& chunk)
{
    if (spec_.version == ZarrVersion_2) {
        // Creating a file and reserving its space took about a millisecond
        // here: 64 of them on the appending thread, at the start of each
        // slab, made one append in 32 wait 55-80 ms. On the I/O threads,
        // once per chunk, whichever writes to it first.
        std::call_once(chunk.opened, [&] {
            auto sink = store_.open_sink(chunk_key(chunk.coords, false));
            sink->reserve(geometry_.chunk_bytes());
            chunk.shard->sink = std::move(sink);
        });
    }
    return *chunk.shard->sink;
}

uint64_t
ArrayWriter::pad_raw_chunk(const std::shared_ptr<RawChunk>& chunk)
{
    // Planes past the array's edge in an outer dimension, or missing at
    // close. In a v3 shard they are never written: the shard's space reads
    // as zeros. A v2 chunk is a whole file: planes come in order, so those
    // missing before the last one written are space of the file that no
    // write touched (reserved up to the chunk's size), which reads as
    // zeros; those after it are written, from one zeroed buffer, a group at
    // a time (rare: the last chunks of a bounded array, or of a stream
    // closed mid-chunk).
    const uint64_t plane = plane_bytes_of(geometry_);
    const uint64_t total = planes_per_chunk_of(geometry_);
    uint64_t unwritten = total - chunk->submitted;
    if (spec_.version == ZarrVersion_2 && chunk->next_plane < total) {
        if (!zeros_) {
            zeros_ = allocate_aligned(static_cast<size_t>(write_group_ * plane));
            std::memset(zeros_.get(), 0, static_cast<size_t>(write_group_ * plane));
        }
        for (uint64_t p = chunk->next_plane; p < total;) {
            const uint64_t k = std::min(write_group_, total - p);
            pool_.submit_io(
              [this, chunk, at = p * plane, n = k * plane, k] {
                  if (!errors_.failed()) {
                      chunk_file(*chunk).write(at, zeros_.get(), static_cast<size_t>(n));
                      raw_planes_stored(*chunk, k);
                  }
              },
              static_cast<size_t>(k * plane));
            p += k;
        }
        unwritten -= total - chunk->next_plane;
    }
    chunk->submitted = total;
    return unwritten;
}

void
ArrayWriter::raw_planes_stored(RawChunk& chunk, uint64_t planes)
{
    const uint64_t planes_per_chunk = planes_per_chunk_of(geometry_);
    if (chunk.stored.fetch_add(planes) + planes != planes_per_chunk) {
        return;
    }
    if (spec_.version == ZarrVersion_2) {
        chunk_file(chunk).finalize();
        row_object_done(chunk.coords[0]);
    } else {
        chunk_stored(chunk.coords, chunk.shard, chunk.offset, geometry_.chunk_bytes());
    }
}

void
ArrayWriter::submit_planes(std::shared_ptr<PlaneBatch> batch)
{
    if (batch->tasks.empty()) {
        return;
    }
    const size_t bytes = batch->bytes;
    pool_.submit(
      [this, batch = std::move(batch)] {
          for (const PlaneTask& task : batch->tasks) {
              run_plane_task(task);
          }
      },
      bytes);
}

void
ArrayWriter::run_plane_task(const PlaneTask& task)
{
    // The tasks of one chunk run in the order they were submitted. A task
    // waits only for tasks submitted, hence dequeued, before it, which are
    // running on other workers and never wait for a later one. It waits
    // before taking a compute slot, so that it never holds one idle.
    PlaneChunk& chunk = *task.chunk;
    for (uint32_t turn = chunk.turn.load(std::memory_order_acquire); turn != task.seq;
         turn = chunk.turn.load(std::memory_order_acquire)) {
        chunk.turn.wait(turn, std::memory_order_acquire);
    }
    try {
        append_plane(chunk, task);
    } catch (...) {
        chunk.segments.clear();
        errors_.record_current(); // the chunk's later tasks see it and skip
    }
    chunk.turn.store(task.seq + 1, std::memory_order_release);
    chunk.turn.notify_all();
}

size_t
ArrayWriter::segment_bytes(const codec::BloscPlanes& p)
{
    // Room for a plane compressed in place, twice over, so that most planes
    // are (the others are compressed apart and copied in); the first
    // segment also holds the chunk's offset table. Small enough that the
    // part of the last segment a chunk leaves unused is little.
    return static_cast<size_t>(round_up(std::max({ size_t{ 256 } << 10,
                                                   2 * p.plane_scratch(),
                                                   p.begin() + p.plane_room() }),
                                        kBufferAlignment));
}

void
ArrayWriter::append_plane(PlaneChunk& chunk, const PlaneTask& task)
{
    if (errors_.failed()) {
        chunk.segments.clear(); // the stream already failed
        return;
    }
    const codec::BloscPlanes& p = *planes_;
    const size_t seg = segment_bytes_;
    if (chunk.segments.empty()) {
        // Taken by the first plane, not when the chunk opens: the chunks of
        // the last slab have mostly given theirs back by now.
        chunk.segments.push_back(segments_->acquire());
        chunk.end = p.begin();
    }
    uint8_t* const table = chunk.segments.front().data();
    // A plane compressed apart (`head`: its lead, then its streams) goes
    // behind the streams so far, across segments.
    const auto copy_in = [&](size_t plane, const uint8_t* head, size_t n) {
        const uint8_t* src = head + p.lead();
        size_t at = chunk.end;
        for (size_t left = n - p.lead(); left > 0;) {
            if (at / seg == chunk.segments.size()) {
                chunk.segments.push_back(segments_->acquire());
            }
            const size_t k = std::min(left, seg - at % seg);
            std::memcpy(chunk.segments[at / seg].data() + at % seg, src, k);
            at += k;
            src += k;
            left -= k;
        }
        chunk.end = p.place(table, chunk.end, plane, head, n);
    };
    // Planes that never arrive (past the array's edge in an outer
    // dimension, or at close) are zeros.
    const auto zeros_until = [&](size_t plane) {
        for (; chunk.next_plane < plane; ++chunk.next_plane) {
            copy_in(chunk.next_plane, p.zero_plane().data(), p.zero_plane().size());
        }
    };
    if (task.src != nullptr) {
        zeros_until(task.plane);
        const size_t within = chunk.end % seg;
        if (within >= p.lead() && seg - within >= p.plane_room()) {
            // In place, in the segment the streams end in.
            assert(chunk.end / seg < chunk.segments.size());
            ThreadPool::ComputeSlot slot(pool_);
            chunk.end = p.append(table, chunk.segments[chunk.end / seg].data() + within,
                                 seg - within, chunk.end, task.plane, task.src);
        } else {
            const std::span<uint8_t> scratch = thread_scratch(p.plane_scratch());
            size_t n = 0;
            {
                ThreadPool::ComputeSlot slot(pool_);
                n = p.compress_plane(task.src, scratch.data(), scratch.size());
            }
            copy_in(task.plane, scratch.data(), n);
        }
        chunk.next_plane = task.plane + 1;
    }
    if (!task.last) {
        return;
    }
    zeros_until(p.planes());
    p.finish(table, chunk.end);
    const auto store = [this](PlaneChunk& done) {
        if (!errors_.failed()) {
            std::vector<std::span<uint8_t>> buffers;
            buffers.reserve(done.segments.size());
            for (Buffer& segment : done.segments) {
                buffers.emplace_back(segment.data(), segment.size());
            }
            store_chunk(done.coords, buffers, done.end);
        }
        done.segments.clear(); // back to the pool
    };
    if (chunk.end < kMinDirectChunk) {
        // A small chunk is copied here: into its shard's pack (v3 in a
        // store that writes in place), or to the page cache or the S3
        // sink, where the kernel's throttling of dirty pages (or the sink's
        // uploads) makes the workers, then the caller, wait, instead of
        // chunks piling up in memory.
        store(chunk);
        return;
    }
    // A large one goes to the I/O threads: every chunk of a slab completes
    // on the same frame, and a burst of direct writes must not stop the
    // compression of the next frames.
    pool_.submit_io([store, done = task.chunk] { store(*done); }, chunk.end);
}

void
ArrayWriter::flush()
{
    if (write_group_ != 0) {
        // Complete every open chunk: its missing planes are never written.
        staging_->stop_warming();
        if (group_) {
            write_group(false);
        }
        for (auto& open : open_raw_) {
            if (open && !errors_.failed()) {
                if (const uint64_t unwritten = pad_raw_chunk(open); unwritten > 0) {
                    raw_planes_stored(*open, unwritten);
                }
            }
            open.reset();
        }
        return;
    }
    if (planes_) {
        // Complete every open chunk; missing planes are zeros.
        staging_->stop_warming();
        auto batch = std::make_shared<PlaneBatch>();
        for (auto& open : open_planes_) {
            if (open) {
                batch->tasks.push_back(PlaneTask{ .chunk = open,
                                                  .seq = open->submitted++,
                                                  .plane = 0,
                                                  .last = true,
                                                  .src = nullptr });
                open.reset();
            }
        }
        submit_planes(std::move(batch));
        return;
    }
    buffers_->stop_warming(); // closing: no more buffers will be needed
    const auto& g = geometry_;
    if (scattered_ % g.frames_per_slab() == 0) {
        return;
    }
    const uint64_t slab_end =
      std::min((scattered_ / g.frames_per_slab() + 1) * g.frames_per_slab(),
               g.frame_capacity());
    while (scattered_ < slab_end) {
        scatter(nullptr);
    }
    assert(std::none_of(open_.begin(), open_.end(), [](const Buffer& b) {
        return static_cast<bool>(b);
    }));
}

void
ArrayWriter::submit_chunks(uint64_t base)
{
    // Small chunks go to the workers several at a time (at least
    // kMinJobBytes per job): one wake-up, queue operation and compute slot
    // per chunk of 128 KiB costs the workers as much as compressing it.
    const uint64_t chunk_bytes = geometry_.chunk_bytes();
    const size_t per_job =
      static_cast<size_t>(std::max<uint64_t>(1, kMinJobBytes / chunk_bytes));
    const auto new_batch = [&] {
        auto batch = std::make_shared<std::vector<Completed>>();
        batch->reserve(std::min(per_job, tiles_.size()));
        return batch;
    };
    auto batch = new_batch();
    const auto submit = [&] {
        const uint64_t bytes = batch->size() * chunk_bytes;
        pool_.submit(
          [this, batch = std::move(batch)] {
              for (auto& done : *batch) {
                  write_chunk(done.coords, done.chunk);
                  done.chunk = Buffer(); // back to the pool at once
              }
          },
          static_cast<size_t>(bytes));
        batch = new_batch();
    };
    for (const Tile& tile : tiles_) {
        const uint64_t slab_index = base + tile.slab_offset;
        if (!open_[slab_index]) {
            continue;
        }
        batch->push_back(Completed{ geometry_.chunk_coords(open_slab_, slab_index),
                                    std::move(open_[slab_index]) });
        if (batch->size() == per_job) {
            submit();
        }
    }
    if (!batch->empty()) {
        submit();
    }
}

std::string
ArrayWriter::chunk_key(const std::vector<uint64_t>& coords, bool v3) const
{
    std::string key = spec_.key;
    if (v3) {
        key += "/c";
    }
    for (uint64_t c : coords) {
        key += '/';
        key += std::to_string(c);
    }
    return key;
}

void
ArrayWriter::write_chunk(const std::vector<uint64_t>& coords, Buffer& chunk)
{
    if (errors_.failed()) {
        return; // the stream already failed; do not pile up more errors
    }
    if (!spec_.codecs.compresses()) {
        const std::span<uint8_t> whole(chunk.data(), chunk.size());
        store_chunk(coords, std::span(&whole, 1), chunk.size());
        return;
    }
    const std::span<uint8_t> out = thread_scratch(spec_.codecs.encoded_bound(chunk.size()));
    size_t n = 0;
    {
        ThreadPool::ComputeSlot slot(pool_);
        n = spec_.codecs.encode(chunk.data(), chunk.size(), out.data(), out.size());
    }
    store_chunk(coords, std::span(&out, 1), n);
}

void
ArrayWriter::store_chunk(const std::vector<uint64_t>& coords,
                         std::span<const std::span<uint8_t>> buffers,
                         size_t n)
{
    // The bytes of the chunk: the first n of the buffers, back to back.
    thread_local std::vector<std::span<const uint8_t>> parts;
    parts.clear();
    for (size_t i = 0, left = n; left > 0; ++i) {
        const size_t k = std::min(left, buffers[i].size());
        parts.emplace_back(buffers[i].data(), k);
        left -= k;
    }

    if (spec_.version == ZarrVersion_2) {
        store_.put_parts(chunk_key(coords, false), parts);
        row_object_done(coords[0]);
        return;
    }

    auto shard = shard_for(shard_of(coords));
    if (packs_ && n < kMinDirectChunk) {
        pack_chunk(coords, shard, parts, n);
        return;
    }

    // A large compressed chunk is placed on an aligned offset and its last
    // block zero-filled, so that it too bypasses the page cache: copying it
    // there costs the workers more CPU than compressing it, and concurrent
    // buffered writers of one shard serialise on the file. The index records
    // the chunk's own length; the gap after it is never read (the sharding
    // format locates chunks only through the index). That takes aligned
    // buffers, every one but the last filled to a multiple of the
    // alignment, and room in the last for the zeros.
    const size_t align = shard->sink->direct_alignment();
    bool pad = align != 0 && n >= kMinDirectChunk;
    for (size_t i = 0; pad && i < parts.size(); ++i) {
        const size_t room = i + 1 < parts.size() ? parts[i].size()
                                                 : round_up(parts[i].size(), align);
        pad = reinterpret_cast<uintptr_t>(parts[i].data()) % align == 0 &&
              room % align == 0 && room <= buffers[i].size();
    }
    uint64_t offset = 0;
    if (pad) {
        const size_t last = parts.back().size();
        const size_t padded = round_up(last, align);
        std::memset(buffers[parts.size() - 1].data() + last, 0, padded - last);
        parts.back() = std::span<const uint8_t>(parts.back().data(), padded);
        offset = claim(shard->end, round_up(n, align), align);
    } else {
        offset = claim(shard->end, n, 0);
    }
    shard->sink->write_parts(offset, parts);
    chunk_stored(coords, shard, offset, n);
    if (packs_ && ++shard->arrived == shard->expected) {
        write_open_pack(shard); // the shard's last chunk: its small ones too
    }
}

void
ArrayWriter::pack_chunk(const std::vector<uint64_t>& coords,
                        const std::shared_ptr<Shard>& shard,
                        std::span<const std::span<const uint8_t>> parts,
                        size_t n)
{
    std::shared_ptr<Pack> ready[2];
    {
        std::lock_guard lock(shard->pack_mutex);
        if (shard->pack && shard->pack->used + n > shard->pack->bytes.size()) {
            ready[0] = std::move(shard->pack);
        }
        if (!shard->pack) {
            shard->pack = std::make_shared<Pack>();
            shard->pack->bytes = packs_->acquire();
        }
        Pack& pack = *shard->pack;
        size_t at = pack.used;
        for (const auto& part : parts) {
            std::memcpy(pack.bytes.data() + at, part.data(), part.size());
            at += part.size();
        }
        pack.chunks.push_back({ geometry_.index_in_shard(coords), pack.used, n });
        pack.used = at;
        // Counted after the chunk is in the pack: whoever counts the last
        // chunk of the shard finds every small one packed.
        if (++shard->arrived == shard->expected) {
            ready[1] = std::move(shard->pack);
        }
    }
    for (auto& pack : ready) {
        if (pack) {
            pool_.submit_io([this, shard, pack] { write_pack(shard, *pack); },
                            pack->used);
        }
    }
}

void
ArrayWriter::write_open_pack(const std::shared_ptr<Shard>& shard)
{
    std::shared_ptr<Pack> pack;
    {
        std::lock_guard lock(shard->pack_mutex);
        pack = std::move(shard->pack);
    }
    if (pack) {
        write_pack(shard, *pack);
    }
}

void
ArrayWriter::write_pack(const std::shared_ptr<Shard>& shard, Pack& pack)
{
    if (errors_.failed()) {
        return;
    }
    // As a large chunk: on an aligned offset, zero-filled to the block, by
    // direct I/O. A small pack (the last of a shard of few or tiny chunks)
    // is written as it is, with no padding.
    size_t n = pack.used;
    size_t align = shard->sink->direct_alignment();
    if (n < kMinDirectChunk) {
        align = 0;
    } else if (align != 0) {
        n = round_up(n, align);
        std::memset(pack.bytes.data() + pack.used, 0, n - pack.used);
    }
    const uint64_t offset = claim(shard->end, n, align);
    shard->sink->write(offset, pack.bytes.data(), n);
    for (IndexEntry& e : pack.chunks) {
        e.at += offset;
    }
    index_chunks(shard, pack.chunks);
}

void
ArrayWriter::chunk_stored(const std::vector<uint64_t>& coords,
                          const std::shared_ptr<Shard>& shard,
                          uint64_t offset,
                          uint64_t n)
{
    const IndexEntry entry{ geometry_.index_in_shard(coords), offset, n };
    index_chunks(shard, std::span(&entry, 1));
}

void
ArrayWriter::index_chunks(const std::shared_ptr<Shard>& shard,
                          std::span<const IndexEntry> chunks)
{
    bool complete = false;
    {
        std::lock_guard lock(shard->mutex);
        for (const IndexEntry& e : chunks) {
            shard->index[2 * e.index] = e.at;
            shard->index[2 * e.index + 1] = e.n;
        }
        shard->written += chunks.size();
        complete = shard->written == shard->expected;
    }
    if (complete) {
        finish_shard(*shard);
    }
}

std::vector<uint64_t>
ArrayWriter::shard_of(const std::vector<uint64_t>& chunk) const
{
    std::vector<uint64_t> shard(chunk.size());
    for (size_t d = 0; d < chunk.size(); ++d) {
        shard[d] = chunk[d] / geometry_.shard_chunks()[d];
    }
    return shard;
}

std::shared_ptr<ArrayWriter::Shard>
ArrayWriter::shard_for(const std::vector<uint64_t>& coords)
{
    std::lock_guard lock(shards_mutex_);
    auto& slot = shards_[coords];
    if (!slot) {
        auto shard = std::make_shared<Shard>();
        shard->key = coords;
        shard->index.assign(2 * geometry_.chunks_per_shard(),
                            std::numeric_limits<uint64_t>::max());
        shard->expected = geometry_.chunks_expected_in_shard(coords);
        try {
            shard->sink = store_.open_sink(chunk_key(coords, true));
            uint64_t per_chunk = geometry_.chunk_bytes();
            if (planes_) {
                per_chunk = round_up(planes_->capacity(), kBufferAlignment);
            } else if (spec_.codecs.compresses()) {
                per_chunk = round_up(spec_.codecs.encoded_bound(per_chunk), kBufferAlignment);
            }
            shard->sink->reserve(shard->expected * per_chunk +
                                 16 * geometry_.chunks_per_shard() + 4);
        } catch (...) {
            shards_.erase(coords);
            throw;
        }
        slot = std::move(shard);
    }
    return slot;
}

void
ArrayWriter::finish_shard(Shard& shard)
{
    const size_t n_entries = shard.index.size();
    std::vector<uint8_t> index(8 * n_entries + 4);
    for (size_t i = 0; i < n_entries; ++i) {
        store_le64(index.data() + 8 * i, shard.index[i]);
    }
    store_le32(index.data() + 8 * n_entries,
               codec::crc32c(index.data(), 8 * n_entries));
    std::shared_ptr<Shard> keep_alive;
    {
        std::lock_guard lock(shards_mutex_);
        auto it = shards_.find(shard.key);
        if (it != shards_.end()) {
            keep_alive = std::move(it->second);
            shards_.erase(it);
        }
    }
    shard.sink->write(shard.end.load(), index.data(), index.size());
    shard.sink->finalize();
    row_object_done(shard.key[0]);
}

void
ArrayWriter::row_object_done(uint64_t row)
{
    if (!geometry_.unbounded()) {
        return; // the metadata has the full shape from the start
    }
    if (errors_.failed()) {
        return; // after a failure a row may miss objects: count none
    }
    std::lock_guard lock(progress_mutex_);
    if (++row_done_[row] < objects_per_row_) {
        return;
    }
    while (!row_done_.empty() && row_done_.begin()->first == rows_complete_ &&
           row_done_.begin()->second == objects_per_row_) {
        row_done_.erase(row_done_.begin());
        ++rows_complete_;
    }
    const uint64_t extent = stored_extent();
    if (extent > published_extent_ && !errors_.failed()) {
        // Atomic replace, in order (under the lock): a reader sees the
        // extent grow, and a crash leaves the last one written.
        write_array_metadata(store_, spec_, extent);
        published_extent_ = extent;
    }
}

void
ArrayWriter::finalize_shards()
{
    std::vector<std::shared_ptr<Shard>> open;
    {
        std::lock_guard lock(shards_mutex_);
        for (auto& [coords, shard] : shards_) {
            open.push_back(shard);
        }
    }
    for (auto& shard : open) {
        try {
            // Its last chunks never came (the end of an unbounded array):
            // those packed wait here.
            write_open_pack(shard);
            finish_shard(*shard);
        } catch (const Error& e) {
            errors_.record(e.code(), e.what());
        }
    }
}

uint64_t
ArrayWriter::write_metadata_of_stored_rows()
{
    std::lock_guard lock(progress_mutex_);
    if (!geometry_.unbounded()) {
        return append_extent();
    }
    published_extent_ = stored_extent();
    write_array_metadata(store_, spec_, published_extent_);
    return published_extent_;
}

uint64_t
ArrayWriter::stored_extent() const
{
    // A row padded at close is not all data: never beyond the frames
    // appended (close writes the exact extent last).
    return std::min(rows_complete_ * row_extent_, append_extent());
}

void
ArrayWriter::write_metadata()
{
    std::lock_guard lock(progress_mutex_);
    published_extent_ = append_extent();
    write_array_metadata(store_, spec_, published_extent_);
}

} // namespace zarr
