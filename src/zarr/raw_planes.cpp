// Uncompressed chunks written plane by plane: every chunk has a fixed size
// and so a fixed place in the store (its range of its shard, or its own
// file), where its planes are written as the frames arrive: writes start
// with the first frames instead of when a slab of chunks completes. A group
// of up to write_group_ frames is staged with each chunk's planes together,
// and written with one request per chunk.
#include "chunk_builder.hh"

#include "../util/log.hh"
#include "io_policy.hh"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>

namespace zarr {
namespace {

using io_policy::kMinJobBytes;
using io_policy::kStagedFrames;

struct RawChunk
{
    std::shared_ptr<PlacedChunk> place;
    uint64_t submitted = 0;            // planes handed out (appending thread)
    // One past the furthest of them (appending thread): a chunk stored in
    // another order (storage_order.hh) gets its planes out of order.
    uint64_t next_plane = 0;
    std::atomic<uint64_t> stored{ 0 }; // planes written or counted as padding
};

class RawPlanes final : public ChunkBuilder
{
  public:
    explicit RawPlanes(const BuildContext& context);
    void append(const uint8_t* frame) override;
    void flush() override;

  private:
    /// Hands the staged group's planes to the I/O threads; `completes`:
    /// its last frame completes its chunks.
    void write_group(bool completes);
    /// Hands out the planes of a completing `chunk` that no frame filled
    /// (where the chunk needs trailing zeros: writes those after its last
    /// plane as zeros, so its object is whole); returns how many of them
    /// are never written, which the caller counts as stored (with its last
    /// write, or at once).
    uint64_t pad(const std::shared_ptr<RawChunk>& chunk);
    /// Counts `planes` more planes of `chunk` as stored (written, or
    /// padding that is never written); the chunk's last completes it.
    void planes_stored(RawChunk& chunk, uint64_t planes);

    const BuildContext c_;
    const uint64_t plane_bytes_;
    const uint64_t planes_per_chunk_;
    const uint64_t write_group_;          // frames per write
    std::shared_ptr<BufferPool> staging_; // a group of frames' planes each
    std::shared_ptr<Buffer> group_;       // the group being staged
    uint64_t group_frames_ = 0;           // frames in group_
    uint64_t group_base_ = 0;             // placement of its first frame
    uint64_t group_local_bytes_ = 0;
    std::vector<std::shared_ptr<RawChunk>> open_; // by slab index
    AlignedBytes zeros_; // trailing padding planes, a group's worth (pad)
};

RawPlanes::RawPlanes(const BuildContext& context)
  : c_(context)
  , plane_bytes_(c_.scatter.plane_bytes())
  , planes_per_chunk_(c_.geometry.planes_per_chunk())
  , write_group_(io_policy::plane_write_frames(plane_bytes_, planes_per_chunk_))
{
    open_.resize(c_.geometry.chunks_per_slab());
    staging_ = BufferPool::create(c_.scatter.tiles().size() * write_group_ * plane_bytes_,
                                  kStagedFrames);
    // As for compressed planes.
    prefill_whole(*staging_, kStagedFrames, prefill_allowance(c_.spec));
    log::debug("array '", c_.spec.key, "': chunks written plane by plane (", write_group_,
               " frames of ", plane_bytes_, "-byte planes per write)");
}

void
RawPlanes::append(const uint8_t* frame)
{
    const auto [base, local_bytes, completes, new_slab] = c_.scatter.place();
    // A group holds consecutive planes of the same chunks; a frame of other
    // chunks (t/c/z/y/x with several channels per chunk) starts a new one.
    if (group_ && (base != group_base_ ||
                   local_bytes != group_local_bytes_ + group_frames_ * plane_bytes_)) {
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
    const size_t budget = c_.pool.io_budget();
    c_.pool.wait_for_io_bytes_at_most(budget > share ? budget - share : 0);
    // Each chunk's planes of the group together: one write per chunk.
    c_.scatter.stage_planes(frame, group_->data() + group_frames_ * plane_bytes_,
                            static_cast<size_t>(write_group_), nullptr);
    ++group_frames_;
    if (completes || group_frames_ == write_group_) {
        write_group(completes);
    }
}

void
RawPlanes::write_group(bool completes)
{
    const uint64_t n = group_frames_ * plane_bytes_;
    struct Write
    {
        std::shared_ptr<RawChunk> chunk;
        const uint8_t* src;
        uint64_t at;     // offset in the chunk
        uint64_t planes; // planes this write stores, padding included
    };
    const std::shared_ptr<Buffer> staging = std::move(group_);
    auto batch = std::make_shared<std::vector<Write>>();
    const auto submit = [&] {
        const size_t bytes = static_cast<size_t>(batch->size() * n);
        c_.pool.submit_io(
          [this, staging, batch, n] {
              for (const Write& w : *batch) {
                  if (c_.errors.failed()) {
                      return; // the array already failed
                  }
                  w.chunk->place->write(w.at, w.src, static_cast<size_t>(n));
                  planes_stored(*w.chunk, w.planes);
              }
          },
          bytes,
          &c_.errors, // a failure is this array's: the others go on
          c_.io_share);
        batch = std::make_shared<std::vector<Write>>();
    };
    const auto& tiles = c_.scatter.tiles();
    for (size_t i = 0; i < tiles.size(); ++i) {
        const uint64_t slab_index = group_base_ + tiles[i].slab_offset;
        auto& open = open_[slab_index];
        if (!open) {
            auto chunk = std::make_shared<RawChunk>();
            try {
                chunk->place = c_.sink.place(c_.scatter.chunk_coords(slab_index));
            } catch (...) {
                c_.errors.record_current(); // the next append reports it
                return;
            }
            open = std::move(chunk);
        }
        open->submitted += group_frames_;
        open->next_plane =
          std::max(open->next_plane, group_local_bytes_ / plane_bytes_ + group_frames_);
        uint64_t planes = group_frames_;
        if (completes) {
            planes += pad(open);
        }
        batch->push_back(Write{ .chunk = open,
                                .src = staging->data() + i * write_group_ * plane_bytes_,
                                .at = group_local_bytes_,
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

uint64_t
RawPlanes::pad(const std::shared_ptr<RawChunk>& chunk)
{
    // Planes past the array's edge in an outer dimension, or missing at
    // close. In a shard they are never written: the shard's space reads as
    // zeros. A chunk that is an object of its own (v2): those missing before
    // the furthest one written are space of the file that no write touched
    // (reserved up to the chunk's size), which reads as zeros; those after
    // it are written, from one zeroed buffer, a
    // group at a time (rare: the last chunks of a bounded array, or of a
    // stream closed mid-chunk).
    const uint64_t plane = plane_bytes_;
    const uint64_t total = planes_per_chunk_;
    uint64_t unwritten = total - chunk->submitted;
    if (chunk->place->needs_trailing_zeros() && chunk->next_plane < total) {
        if (!zeros_) {
            zeros_ = allocate_aligned(static_cast<size_t>(write_group_ * plane));
            std::memset(zeros_.get(), 0, static_cast<size_t>(write_group_ * plane));
        }
        for (uint64_t p = chunk->next_plane; p < total;) {
            const uint64_t k = std::min(write_group_, total - p);
            c_.pool.submit_io(
              [this, chunk, at = p * plane, n = k * plane, k] {
                  if (!c_.errors.failed()) {
                      chunk->place->write(at, zeros_.get(), static_cast<size_t>(n));
                      planes_stored(*chunk, k);
                  }
              },
              static_cast<size_t>(k * plane),
              &c_.errors, // a failure is this array's: the others go on
              c_.io_share);
            p += k;
        }
        unwritten -= total - chunk->next_plane;
    }
    chunk->submitted = total;
    return unwritten;
}

void
RawPlanes::planes_stored(RawChunk& chunk, uint64_t planes)
{
    if (chunk.stored.fetch_add(planes) + planes != planes_per_chunk_) {
        return;
    }
    chunk.place->complete();
}

void
RawPlanes::flush()
{
    // Complete every open chunk: its missing planes are never written.
    if (group_) {
        write_group(false);
    }
    for (auto& open : open_) {
        if (open && !c_.errors.failed()) {
            if (const uint64_t unwritten = pad(open); unwritten > 0) {
                planes_stored(*open, unwritten);
            }
        }
        open.reset();
    }
}

} // namespace

std::unique_ptr<ChunkBuilder>
make_raw_planes(const BuildContext& context)
{
    return std::make_unique<RawPlanes>(context);
}

} // namespace zarr
