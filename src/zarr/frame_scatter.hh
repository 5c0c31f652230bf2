// Where each frame of an array goes: the tiles a frame splits into (one
// per chunk of a slab it touches), the placement of the next frame in its
// chunks, and the copies of a frame's tiles, into chunk buffers or into
// staged planes. Every chunk-building strategy copies frames through it.
// Where the array is stored in another order (storage_order.hh), a frame's
// plane goes to its place in storage order, transposed if x is stored
// before y: still the one copy from the caller's frame.
#pragma once

#include "../codec/blosc1.hh"
#include "geometry.hh"

#include <cstdint>
#include <vector>

namespace zarr {

class FrameScatter
{
  public:
    /// The part of a frame inside one chunk.
    struct Tile
    {
        uint64_t src_offset;  // bytes into a frame
        uint64_t rows;        // rows of the frame inside this chunk
        uint64_t row_bytes;   // bytes per row inside this chunk
        uint64_t slab_offset; // added to the frame's first slab index
    };

    /// Where a frame goes: the slab index of its first tile, its byte
    /// offset inside each chunk, and whether it completes its group.
    struct Placement
    {
        uint64_t base;
        uint64_t local_bytes;
        bool completes;
        bool new_slab; // the first frame placed in its slab
    };

    explicit FrameScatter(const Geometry& geometry);

    const Geometry& geometry() const noexcept { return g_; }
    const std::vector<Tile>& tiles() const noexcept { return tiles_; }

    /// Bytes of one y/x plane of a chunk (Geometry::chunk_plane_bytes()).
    uint64_t plane_bytes() const noexcept { return plane_bytes_; }

    /// Places the next frame (padding included) and counts it.
    Placement place();

    /// Frames placed so far, padding included.
    uint64_t placed() const noexcept { return placed_; }

    /// Coordinates of the chunk at `slab_index` in the slab of the frame
    /// placed last.
    std::vector<uint64_t> chunk_coords(uint64_t slab_index) const
    {
        return g_.chunk_coords(slab_, slab_index);
    }

    /// Copies `tile` of `frame` (nullptr: zeros) to `dst`, its place in
    /// the chunk. Streaming copies: finish_streaming_copies() after a frame.
    void copy_tile(const uint8_t* frame, const Tile& tile, uint8_t* dst) const;

    /// Copies the frame's planes to `dst`, tile i's at i * stride planes,
    /// staged for `planes` (shuffled already if it shuffles as staged), or
    /// as they are if that is null.
    void stage_planes(const uint8_t* frame,
                      uint8_t* dst,
                      size_t stride,
                      const codec::BloscPlanes* planes) const;

  private:
    /// copy_tile() for chunks that store the frame's axes swapped.
    void copy_tile_transposed(const uint8_t* frame, const Tile& tile, uint8_t* dst) const;

    const Geometry& g_;
    bool transposes_ = false; // chunks store x, then y (g_.swaps_frame_axes())
    std::vector<Tile> tiles_;
    std::vector<uint64_t> chunk_strides_; // elements, per outer dimension
    uint64_t chunk_row_bytes_ = 0; // a chunk plane's row: chx (or chy) elements
    uint64_t frame_row_bytes_ = 0;
    uint64_t plane_bytes_ = 0;      // g_.chunk_plane_bytes(), used per tile
    uint64_t slab_ = 0;             // append-chunk index of the last frame
    uint64_t placed_ = 0;           // frames placed, padding included
    std::vector<uint64_t> coords_; // scratch for frame coordinates
};

} // namespace zarr
