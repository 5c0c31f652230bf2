// The chunk and shard lattices of an array and where each frame lands.
//
// Frames are height x width planes (the last two dimensions). They fill the
// "outer" dimensions 0..n-3 in C order, dimension 0 being the append
// dimension. A "slab" is the set of chunks that share one chunk index along
// the append dimension: all chunks that can be open at once.
//
// Coordinates are in acquisition order everywhere here; stored() turns them
// into the order of the stored axes, for keys. A 2-D array (one frame) has a
// leading dimension of size 1 here that never reaches storage.
#pragma once

#include "array_spec.hh"

#include <cstdint>
#include <vector>

namespace zarr {

class Geometry
{
  public:
    /// `storage_order`: as ArraySpec::storage_order (empty: as acquired).
    Geometry(const std::vector<DimensionSpec>& dims,
             size_t bytes_per_element,
             const std::vector<size_t>& storage_order = {});

    size_t ndim() const noexcept { return sizes_.size(); }
    size_t bytes_per_element() const noexcept { return bpe_; }
    bool unbounded() const noexcept { return sizes_[0] == 0; }

    uint64_t frame_height() const noexcept { return sizes_[ndim() - 2]; }
    uint64_t frame_width() const noexcept { return sizes_[ndim() - 1]; }
    uint64_t frame_bytes() const noexcept;

    /// Frames per step along the append dimension (product of the sizes of
    /// dimensions 1..n-3; 1 for a 3-D array).
    uint64_t frames_per_append_index() const noexcept { return fpa_; }
    /// Frames per chunk row along the append dimension.
    uint64_t frames_per_slab() const noexcept { return fpa_ * chunks_[0]; }
    /// Total frames a bounded array holds; UINT64_MAX when unbounded.
    uint64_t frame_capacity() const noexcept;

    const std::vector<uint64_t>& sizes() const noexcept { return sizes_; }
    const std::vector<uint64_t>& chunk_shape() const noexcept { return chunks_; }
    /// Chunks along each dimension; 0 on an unbounded append dimension.
    const std::vector<uint64_t>& chunk_counts() const noexcept
    {
        return chunk_counts_;
    }
    uint64_t chunk_elements() const noexcept { return chunk_elems_; }
    uint64_t chunk_bytes() const noexcept { return chunk_elems_ * bpe_; }
    uint64_t chunks_per_slab() const noexcept { return chunks_per_slab_; }
    /// Bytes of one y/x plane of a chunk.
    uint64_t chunk_plane_bytes() const noexcept
    {
        return chunks_[ndim() - 2] * chunks_[ndim() - 1] * bpe_;
    }
    /// Planes per chunk: the product of its outer (non y/x) extents.
    uint64_t planes_per_chunk() const noexcept
    {
        return chunk_elems_ / (chunks_[ndim() - 2] * chunks_[ndim() - 1]);
    }
    /// Chunks complete in groups: one per chunk of the dimensions between
    /// the first and y/x (one group per slab for t/y/x).
    uint64_t groups_per_slab() const noexcept;
    uint64_t tiles_per_frame() const noexcept
    {
        return chunk_counts_[ndim() - 2] * chunk_counts_[ndim() - 1];
    }

    const std::vector<uint64_t>& shard_chunks() const noexcept
    {
        return shard_chunks_;
    }
    std::vector<uint64_t> shard_shape() const;
    uint64_t chunks_per_shard() const noexcept { return chunks_per_shard_; }

    /// Coordinates of frame `frame` along dimensions 0..n-3.
    void frame_coords(uint64_t frame, uint64_t* outer) const noexcept;

    /// Chunk coordinates (all dimensions) of the chunk with index
    /// `slab_index` inside the slab at append-chunk index `slab`.
    std::vector<uint64_t> chunk_coords(uint64_t slab,
                                       uint64_t slab_index) const;

    /// True if the chunk reaches past the array's end in some dimension.
    bool is_edge_chunk(const std::vector<uint64_t>& chunk) const noexcept;

    /// Inner chunks of the shard at `shard` that lie inside the array. On an
    /// unbounded append dimension every chunk row of the shard counts.
    uint64_t chunks_expected_in_shard(const std::vector<uint64_t>& shard) const;

    /// True if chunks store the frame's axes swapped (x, then y).
    bool swaps_frame_axes() const noexcept;

    /// `coords` (acquisition order, ndim() of them) as stored: in storage
    /// order, without the leading dimension of a 2-D array.
    std::vector<uint64_t> stored(const std::vector<uint64_t>& coords) const;

    /// Position of dimension `d` among the stored axes (of ndim()).
    size_t storage_position(size_t d) const noexcept
    {
        return order_.empty() ? d : position_[d];
    }

    /// Index of `chunk` inside its shard, in C order over shard_chunks() in
    /// storage order (the order of the shard index).
    uint64_t index_in_shard(const std::vector<uint64_t>& chunk) const noexcept;

    /// Position of `chunk` among the chunks of its shard that lie inside
    /// the array (chunks_expected_in_shard()), in C order: index_in_shard()
    /// with the chunks past the array's edges left out.
    uint64_t rank_in_shard(const std::vector<uint64_t>& chunk) const noexcept;

  private:
    size_t bpe_;
    bool virtual_leading_ = false;  // a 2-D array: dimension 0 is not stored
    std::vector<size_t> order_;     // storage order over ndim(); empty: identity
    std::vector<size_t> position_;  // inverse of order_
    std::vector<uint64_t> sizes_;
    std::vector<uint64_t> chunks_;
    std::vector<uint64_t> chunk_counts_;
    std::vector<uint64_t> shard_chunks_;
    uint64_t fpa_ = 1;
    uint64_t chunk_elems_ = 1;
    uint64_t chunks_per_slab_ = 1;
    uint64_t chunks_per_shard_ = 1;
};

inline uint64_t
ceil_div(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

/// The smallest multiple of `b` that is at least `a`.
inline uint64_t
round_up(uint64_t a, uint64_t b)
{
    return ceil_div(a, b) * b;
}

} // namespace zarr
