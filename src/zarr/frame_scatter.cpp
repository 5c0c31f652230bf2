#include "frame_scatter.hh"

#include "../util/row_copy.hh"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace zarr {
namespace {

/// Writes the `rows` x `cols` elements of type T at `src` (rows
/// `src_stride` bytes apart) transposed: source column c becomes the row at
/// dst + c * dst_stride. In square blocks, so that both sides stay in cache.
template<typename T>
void
transpose(uint8_t* dst, size_t dst_stride, const uint8_t* src, size_t src_stride,
          uint64_t rows, uint64_t cols)
{
    constexpr uint64_t kBlock = 32;
    for (uint64_t r0 = 0; r0 < rows; r0 += kBlock) {
        const uint64_t r1 = std::min(rows, r0 + kBlock);
        for (uint64_t c0 = 0; c0 < cols; c0 += kBlock) {
            const uint64_t c1 = std::min(cols, c0 + kBlock);
            for (uint64_t c = c0; c < c1; ++c) {
                T* out = reinterpret_cast<T*>(dst + c * dst_stride);
                for (uint64_t r = r0; r < r1; ++r) {
                    std::memcpy(out + r, src + r * src_stride + c * sizeof(T), sizeof(T));
                }
            }
        }
    }
}

} // namespace

FrameScatter::FrameScatter(const Geometry& geometry)
  : g_(geometry)
{
    const auto& g = g_;
    const size_t n = g.ndim();
    const uint64_t bpe = g.bytes_per_element();
    const uint64_t chy = g.chunk_shape()[n - 2];
    const uint64_t chx = g.chunk_shape()[n - 1];
    const uint64_t cy = g.chunk_counts()[n - 2];
    const uint64_t cx = g.chunk_counts()[n - 1];

    chunk_row_bytes_ = chx * bpe;
    frame_row_bytes_ = g.frame_width() * bpe;
    plane_bytes_ = g.chunk_plane_bytes();
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

    // A dimension's stride in the chunk: the extents of the axes stored
    // after it (the frame's axes are always the last two).
    chunk_strides_.assign(n - 2, 1);
    for (size_t d = 0; d + 2 < n; ++d) {
        for (size_t e = 0; e < n; ++e) {
            if (g.storage_position(e) > g.storage_position(d)) {
                chunk_strides_[d] *= g.chunk_shape()[e];
            }
        }
    }
    coords_.resize(n - 2);
    transposes_ = g.swaps_frame_axes();
    if (transposes_) {
        // Each chunk plane holds its tile's columns as rows.
        chunk_row_bytes_ = chy * bpe;
    }
}

FrameScatter::Placement
FrameScatter::place()
{
    const auto& g = g_;
    const size_t n_outer = g.ndim() - 2;
    const auto& chunk = g.chunk_shape();
    const auto& sizes = g.sizes();
    g.frame_coords(placed_, coords_.data());
    ++placed_;

    const uint64_t slab = coords_[0] / chunk[0];
    const bool new_slab = slab != slab_;
    slab_ = slab;

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
                      .completes = completes,
                      .new_slab = new_slab };
}

void
FrameScatter::copy_tile(const uint8_t* frame, const Tile& tile, uint8_t* dst) const
{
    if (transposes_) {
        copy_tile_transposed(frame, tile, dst);
        return;
    }
    if (frame != nullptr) {
        copy_rows(dst, chunk_row_bytes_, frame + tile.src_offset, frame_row_bytes_,
                  tile.rows, tile.row_bytes);
        return;
    }
    for (uint64_t r = 0; r < tile.rows; ++r) {
        std::memset(dst, 0, tile.row_bytes);
        dst += chunk_row_bytes_;
    }
}

void
FrameScatter::stage_planes(const uint8_t* frame,
                           uint8_t* dst,
                           size_t stride,
                           const codec::BloscPlanes* planes) const
{
    // A tile at the right or bottom edge of the frame covers only part of
    // its chunk's plane: the rest is zeros.
    for (size_t i = 0; i < tiles_.size(); ++i) {
        const Tile& tile = tiles_[i];
        uint8_t* plane = dst + i * stride * plane_bytes_;
        if (transposes_) {
            assert(planes == nullptr); // plane_plan() has no plan for these
            if (tile.rows * tile.row_bytes != plane_bytes_) {
                std::memset(plane, 0, plane_bytes_);
            }
            copy_tile_transposed(frame, tile, plane);
            continue;
        }
        if (tile.rows * chunk_row_bytes_ != plane_bytes_ ||
            tile.row_bytes != chunk_row_bytes_) {
            std::memset(plane, 0, plane_bytes_);
        }
        if (planes != nullptr) {
            // As the workers compress it: maybe shuffled already.
            planes->stage(plane, chunk_row_bytes_, frame + tile.src_offset,
                          frame_row_bytes_, tile.rows, tile.row_bytes);
        } else {
            copy_rows(plane, chunk_row_bytes_, frame + tile.src_offset, frame_row_bytes_,
                      tile.rows, tile.row_bytes);
        }
    }
    finish_streaming_copies();
}

void
FrameScatter::copy_tile_transposed(const uint8_t* frame, const Tile& tile, uint8_t* dst) const
{
    const uint64_t bpe = g_.bytes_per_element();
    const uint64_t cols = tile.row_bytes / bpe;
    if (frame == nullptr) {
        for (uint64_t c = 0; c < cols; ++c) {
            std::memset(dst + c * chunk_row_bytes_, 0, tile.rows * bpe);
        }
        return;
    }
    const uint8_t* src = frame + tile.src_offset;
    switch (bpe) {
        case 1:
            transpose<uint8_t>(dst, chunk_row_bytes_, src, frame_row_bytes_, tile.rows, cols);
            break;
        case 2:
            transpose<uint16_t>(dst, chunk_row_bytes_, src, frame_row_bytes_, tile.rows, cols);
            break;
        case 4:
            transpose<uint32_t>(dst, chunk_row_bytes_, src, frame_row_bytes_, tile.rows, cols);
            break;
        default:
            transpose<uint64_t>(dst, chunk_row_bytes_, src, frame_row_bytes_, tile.rows, cols);
            break;
    }
}

} // namespace zarr
