// Chunks compressed plane by plane (codec::BloscPlanes): a frame is staged
// as one plane per chunk, back to back, which the workers compress into
// each chunk's encoded bytes as the frames arrive (held in pooled segments
// that the chunk takes as it grows); a complete chunk is then only stored.
#include "chunk_builder.hh"

#include "../util/log.hh"
#include "io_policy.hh"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>

namespace zarr {
namespace {

using io_policy::kMinDirectChunk;
using io_policy::kMinJobBytes;
using io_policy::kStagedFrames;

/// A chunk being compressed: its tasks run one at a time, in order.
struct PlaneChunk
{
    std::vector<uint64_t> coords;
    uint32_t submitted = 0;          // tasks submitted (appending thread)
    std::atomic<uint32_t> turn{ 0 }; // the task that may run next
    // Touched only by the task whose turn it is:
    std::vector<Buffer> segments; // the chunk's bytes, back to back
    size_t end = 0;
    uint32_t next_plane = 0;
};

struct PlaneTask
{
    std::shared_ptr<PlaneChunk> chunk;
    uint32_t seq;       // this task's turn on the chunk
    uint32_t plane;     // plane index in the chunk
    bool last;          // the chunk is complete after this task
    const uint8_t* src; // the plane (staging); nullptr: none (padding)
};

struct PlaneBatch
{
    std::shared_ptr<Buffer> staging; // the frame's planes (shared by batches)
    std::vector<PlaneTask> tasks;
    size_t bytes = 0;
};

class PlaneChunks final : public ChunkBuilder
{
  public:
    PlaneChunks(const BuildContext& context, codec::BloscPlanes planes);
    void append(const uint8_t* frame) override;
    void flush() override;

  private:
    void submit_planes(std::shared_ptr<PlaneBatch> batch);
    void run_plane_task(const PlaneTask& task);
    void append_plane(PlaneChunk& chunk, const PlaneTask& task);
    /// Stores a complete chunk, here or on an I/O thread.
    void store_complete(const std::shared_ptr<PlaneChunk>& complete);

    const BuildContext c_;
    const codec::BloscPlanes planes_;
    std::shared_ptr<BufferPool> staging_;  // one frame of planes each (StagingPools)
    std::shared_ptr<BufferPool> segments_; // parts of encoded chunks
    size_t segment_bytes_ = 0;
    std::vector<std::shared_ptr<PlaneChunk>> open_; // by slab index
    uint64_t groups_completed_ = 0; // groups of planes whose last frame came
};

PlaneChunks::PlaneChunks(const BuildContext& context, codec::BloscPlanes planes)
  : c_(context)
  , planes_(std::move(planes))
{
    const auto& g = c_.geometry;
    // Encoded chunks take segments as they grow, and give them back once
    // written: memory follows the compressed bytes open and in flight.
    open_.resize(g.chunks_per_slab());
    const StagingPools::Share staging =
      staging_pool(c_, c_.scatter.tiles().size() * planes_.plane_bytes(), kStagedFrames, 2);
    staging_ = staging.pool;
    segment_bytes_ = io_policy::segment_bytes(planes_);
    segments_ = BufferPool::create(
      segment_bytes_,
      static_cast<size_t>(2 * g.chunks_per_slab() *
                          ceil_div(planes_.capacity(), segment_bytes_)));
    // Made now, their pages faulted in, instead of by the first frames (see
    // io_policy::kMaxPrefillBytes): the first group of chunks is compressed
    // before any write can start. The staging buffers are filled on every
    // frame: all of them. Segments: as many, and as much of them, as the
    // first group of chunks fills if the data compresses to half (those it
    // does not need are released after the second group; see append). At
    // most the array's prefill allowance in all.
    const uint64_t allowance = prefill_allowance(c_.spec);
    // The stream's pool holds at most its byte budget of frames in flight,
    // besides the one the caller stages and one whose last batch runs.
    const uint64_t left =
      allowance -
      prefill_share(staging, allowance, c_.pool.byte_budget() / staging_->buffer_size() + 2);
    const uint64_t chunks_per_group = g.chunks_per_slab() / g.groups_per_slab();
    const uint64_t half = g.chunk_bytes() / 2;
    const uint64_t full =
      std::min(chunks_per_group * (half / segment_bytes_), left / segment_bytes_);
    segments_->prefill(static_cast<size_t>(full), segment_bytes_);
    const uint64_t rest = half % segment_bytes_;
    if (rest != 0) {
        const uint64_t partial =
          std::min(chunks_per_group, (left - full * segment_bytes_) / rest);
        segments_->prefill(static_cast<size_t>(full + partial), static_cast<size_t>(rest));
    }
    log::debug("array '", c_.spec.key, "': chunks compressed plane by plane (",
               planes_.planes(), " planes of ", planes_.plane_bytes(),
               " bytes, blocks of ", planes_.block_bytes(), " bytes",
               planes_.shuffles_staged() ? ", shuffled as staged)" : ")");
}

void
PlaneChunks::append(const uint8_t* frame)
{
    const auto [base, local_bytes, completes, new_slab] = c_.scatter.place();
    assert(!new_slab || std::none_of(open_.begin(), open_.end(),
                                     [](const auto& c) { return static_cast<bool>(c); }));
    const size_t plane_bytes = planes_.plane_bytes();
    const auto plane = static_cast<uint32_t>(local_bytes / plane_bytes);
    const auto& tiles = c_.scatter.tiles();

    // The frame's planes, back to back in tile order.
    auto staging = std::make_shared<Buffer>(staging_->acquire());
    c_.scatter.stage_planes(frame, staging->data(), 1, &planes_);

    const auto new_batch = [&] {
        auto batch = std::make_shared<PlaneBatch>();
        batch->staging = staging;
        return batch;
    };
    auto batch = new_batch();
    for (size_t i = 0; i < tiles.size(); ++i) {
        auto& open = open_[base + tiles[i].slab_offset];
        if (!open) {
            open = std::make_shared<PlaneChunk>();
            open->coords = c_.scatter.chunk_coords(base + tiles[i].slab_offset);
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
        // more than this data needs. So are staging buffers never taken:
        // the pool's budget, which the arrays of a stream share, held
        // fewer frames in flight.
        segments_->release_never_used();
        staging_->release_never_used();
    }
}

void
PlaneChunks::flush()
{
    // Complete every open chunk; missing planes are zeros.
    auto batch = std::make_shared<PlaneBatch>();
    for (auto& open : open_) {
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
}

void
PlaneChunks::submit_planes(std::shared_ptr<PlaneBatch> batch)
{
    if (batch->tasks.empty()) {
        return;
    }
    const size_t bytes = batch->bytes;
    c_.pool.submit(
      [this, batch = std::move(batch)] {
          for (const PlaneTask& task : batch->tasks) {
              run_plane_task(task);
          }
      },
      bytes);
}

void
PlaneChunks::run_plane_task(const PlaneTask& task)
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
        c_.errors.record_current(); // the chunk's later tasks see it and skip
    }
    chunk.turn.store(task.seq + 1, std::memory_order_release);
    chunk.turn.notify_all();
}

void
PlaneChunks::append_plane(PlaneChunk& chunk, const PlaneTask& task)
{
    if (c_.errors.failed()) {
        chunk.segments.clear(); // the stream already failed
        return;
    }
    const codec::BloscPlanes& p = planes_;
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
            ThreadPool::ComputeSlot slot(c_.pool);
            chunk.end = p.append(table, chunk.segments[chunk.end / seg].data() + within,
                                 seg - within, chunk.end, task.plane, task.src);
        } else {
            const std::span<uint8_t> scratch = thread_scratch(p.plane_scratch());
            size_t n = 0;
            {
                ThreadPool::ComputeSlot slot(c_.pool);
                n = p.compress_plane(task.src, scratch.data(), scratch.size());
            }
            copy_in(task.plane, scratch.data(), n);
        }
        chunk.next_plane = task.plane + 1;
    }
    if (task.last) {
        zeros_until(p.planes());
        p.finish(table, chunk.end);
        store_complete(task.chunk);
    }
}

void
PlaneChunks::store_complete(const std::shared_ptr<PlaneChunk>& complete)
{
    PlaneChunk& chunk = *complete;
    const auto store = [this](PlaneChunk& done) {
        if (!c_.errors.failed()) {
            std::vector<std::span<uint8_t>> buffers;
            buffers.reserve(done.segments.size());
            for (Buffer& segment : done.segments) {
                buffers.emplace_back(segment.data(), segment.size());
            }
            c_.sink.store(done.coords, buffers, done.end);
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
    c_.pool.submit_io([store, done = complete] { store(*done); },
                      chunk.end,
                      &c_.errors, // a failure is this array's: the others go on
                      c_.io_share);
}

} // namespace

std::unique_ptr<ChunkBuilder>
make_plane_chunks(const BuildContext& context, codec::BloscPlanes planes)
{
    return std::make_unique<PlaneChunks>(context, std::move(planes));
}

} // namespace zarr
