// Chunks built whole: each frame is scattered into the chunk buffers it
// touches (one copy); a chunk is compressed (if it is) and stored when the
// last frame that touches it arrives.
#include "chunk_builder.hh"

#include "../util/row_copy.hh"
#include "io_policy.hh"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace zarr {
namespace {

using io_policy::kMinJobBytes;

void
warm_in_steps(ThreadPool& pool, std::shared_ptr<BufferPool> buffers, size_t target)
{
    // Never blocks: a full queue just ends the warming early.
    pool.try_submit(
      [&pool, buffers, target] {
          if (buffers->warm(target, io_policy::kWarmStep)) {
              warm_in_steps(pool, buffers, target);
          }
      });
}

class WholeChunks final : public ChunkBuilder
{
  public:
    explicit WholeChunks(const BuildContext& context);
    void append(const uint8_t* frame) override { scatter(frame); }
    void flush() override;

  private:
    struct Completed
    {
        std::vector<uint64_t> coords; // chunk coordinates
        Buffer chunk;
    };

    void scatter(const uint8_t* frame); // nullptr: zeros
    Buffer& open_chunk(uint64_t slab_index);
    /// Submits the chunks of the group at `base` (slab index of its first
    /// tile) that hold data, several small ones per job.
    void submit_chunks(uint64_t base);
    void write_chunk(const std::vector<uint64_t>& coords, Buffer& chunk);

    const BuildContext c_;
    std::shared_ptr<BufferPool> buffers_;
    std::vector<Buffer> open_; // by slab index
};

WholeChunks::WholeChunks(const BuildContext& context)
  : c_(context)
{
    const auto& g = c_.geometry;
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
    for (unsigned i = 0; i < c_.pool.n_threads(); ++i) {
        warm_in_steps(c_.pool, buffers_, target);
    }
}

Buffer&
WholeChunks::open_chunk(uint64_t slab_index)
{
    Buffer& buffer = open_[slab_index];
    if (!buffer) {
        buffer = buffers_->acquire();
        // Recycled buffers hold old data: a chunk that reaches past the
        // array's end has padding that no frame overwrites.
        if (c_.geometry.is_edge_chunk(c_.scatter.chunk_coords(slab_index))) {
            std::memset(buffer.data(), 0, buffer.size());
        }
    }
    return buffer;
}

void
WholeChunks::scatter(const uint8_t* frame)
{
    const auto [base, local_bytes, completes, new_slab] = c_.scatter.place();
    assert(!new_slab || std::none_of(open_.begin(), open_.end(), [](const Buffer& b) {
        return static_cast<bool>(b);
    }));

    for (const FrameScatter::Tile& tile : c_.scatter.tiles()) {
        const uint64_t slab_index = base + tile.slab_offset;
        if (frame == nullptr && !open_[slab_index]) {
            continue; // padding only matters for chunks holding data
        }
        c_.scatter.copy_tile(frame, tile, open_chunk(slab_index).data() + local_bytes);
    }
    finish_streaming_copies();

    if (completes) {
        submit_chunks(base);
    }
}

void
WholeChunks::flush()
{
    buffers_->stop_warming(); // closing: no more buffers will be needed
    const auto& g = c_.geometry;
    const uint64_t placed = c_.scatter.placed();
    if (placed % g.frames_per_slab() == 0) {
        return;
    }
    const uint64_t slab_end =
      std::min((placed / g.frames_per_slab() + 1) * g.frames_per_slab(), g.frame_capacity());
    while (c_.scatter.placed() < slab_end) {
        scatter(nullptr);
    }
    assert(std::none_of(open_.begin(), open_.end(), [](const Buffer& b) {
        return static_cast<bool>(b);
    }));
}

void
WholeChunks::submit_chunks(uint64_t base)
{
    // Small chunks go to the workers several at a time (see kMinJobBytes).
    const auto& tiles = c_.scatter.tiles();
    const uint64_t chunk_bytes = c_.geometry.chunk_bytes();
    const size_t per_job =
      static_cast<size_t>(std::max<uint64_t>(1, kMinJobBytes / chunk_bytes));
    const auto new_batch = [&] {
        auto batch = std::make_shared<std::vector<Completed>>();
        batch->reserve(std::min(per_job, tiles.size()));
        return batch;
    };
    auto batch = new_batch();
    const auto submit = [&] {
        const uint64_t bytes = batch->size() * chunk_bytes;
        c_.pool.submit(
          [this, batch = std::move(batch)] {
              for (auto& done : *batch) {
                  write_chunk(done.coords, done.chunk);
                  done.chunk = Buffer(); // back to the pool at once
              }
          },
          static_cast<size_t>(bytes),
          &c_.errors); // a failure is this array's: the others go on
        batch = new_batch();
    };
    for (const FrameScatter::Tile& tile : tiles) {
        const uint64_t slab_index = base + tile.slab_offset;
        if (!open_[slab_index]) {
            continue;
        }
        batch->push_back(
          Completed{ c_.scatter.chunk_coords(slab_index), std::move(open_[slab_index]) });
        if (batch->size() == per_job) {
            submit();
        }
    }
    if (!batch->empty()) {
        submit();
    }
}

void
WholeChunks::write_chunk(const std::vector<uint64_t>& coords, Buffer& chunk)
{
    if (c_.errors.failed()) {
        return; // the stream already failed; do not pile up more errors
    }
    if (!c_.spec.codecs.compresses()) {
        const std::span<uint8_t> whole(chunk.data(), chunk.size());
        c_.sink.store(coords, std::span(&whole, 1), chunk.size());
        return;
    }
    const std::span<uint8_t> out = thread_scratch(c_.spec.codecs.encoded_bound(chunk.size()));
    size_t n = 0;
    {
        ThreadPool::ComputeSlot slot(c_.pool);
        n = c_.spec.codecs.encode(chunk.data(), chunk.size(), out.data(), out.size());
    }
    c_.sink.store(coords, std::span(&out, 1), n);
}

} // namespace

std::unique_ptr<ChunkBuilder>
make_whole_chunks(const BuildContext& context)
{
    return std::make_unique<WholeChunks>(context);
}

} // namespace zarr
