#include "geometry.hh"

#include <cassert>
#include <limits>

namespace zarr {

namespace {

/// `dims`, with a leading dimension of one frame for a 2-D array.
std::vector<DimensionSpec>
with_append_dimension(const std::vector<DimensionSpec>& dims)
{
    if (dims.size() != 2) {
        return dims;
    }
    DimensionSpec one;
    one.size = 1;
    std::vector<DimensionSpec> all{ one };
    all.insert(all.end(), dims.begin(), dims.end());
    return all;
}

} // namespace

Geometry::Geometry(const std::vector<DimensionSpec>& spec_dims,
                   size_t bytes_per_element,
                   const std::vector<size_t>& storage_order)
  : bpe_(bytes_per_element)
  , virtual_leading_(spec_dims.size() == 2)
{
    assert(spec_dims.size() >= 2);
    assert(storage_order.empty() || storage_order.size() == spec_dims.size());
    const std::vector<DimensionSpec> dims = with_append_dimension(spec_dims);
    const size_t n = dims.size();
    if (!storage_order.empty()) {
        if (virtual_leading_) {
            order_.push_back(0);
        }
        for (size_t d : storage_order) {
            order_.push_back(virtual_leading_ ? d + 1 : d);
        }
        position_.resize(n);
        for (size_t k = 0; k < n; ++k) {
            position_[order_[k]] = k;
        }
    }
    for (size_t d = 0; d < n; ++d) {
        const auto& dim = dims[d];
        assert(dim.chunk > 0);
        assert(d == 0 || dim.size > 0);
        sizes_.push_back(dim.size);
        chunks_.push_back(dim.chunk);
        chunk_counts_.push_back(dim.size == 0 ? 0 : ceil_div(dim.size, dim.chunk));
        shard_chunks_.push_back(dim.shard_chunks == 0 ? 1 : dim.shard_chunks);
        chunk_elems_ *= dim.chunk;
        chunks_per_shard_ *= shard_chunks_.back();
        if (d >= 1) {
            chunks_per_slab_ *= chunk_counts_.back();
        }
        if (d >= 1 && d + 2 < n) {
            fpa_ *= dim.size;
        }
    }
}

uint64_t
Geometry::frame_bytes() const noexcept
{
    return frame_height() * frame_width() * bpe_;
}

uint64_t
Geometry::frame_capacity() const noexcept
{
    return unbounded() ? std::numeric_limits<uint64_t>::max() : sizes_[0] * fpa_;
}

std::vector<uint64_t>
Geometry::shard_shape() const
{
    std::vector<uint64_t> shape(ndim());
    for (size_t d = 0; d < ndim(); ++d) {
        shape[d] = chunks_[d] * shard_chunks_[d];
    }
    return shape;
}

void
Geometry::frame_coords(uint64_t frame, uint64_t* outer) const noexcept
{
    const size_t n_outer = ndim() - 2;
    for (size_t d = n_outer; d-- > 1;) {
        outer[d] = frame % sizes_[d];
        frame /= sizes_[d];
    }
    outer[0] = frame;
}

std::vector<uint64_t>
Geometry::chunk_coords(uint64_t slab, uint64_t slab_index) const
{
    std::vector<uint64_t> coords(ndim());
    for (size_t d = ndim(); d-- > 1;) {
        coords[d] = slab_index % chunk_counts_[d];
        slab_index /= chunk_counts_[d];
    }
    coords[0] = slab;
    return coords;
}

bool
Geometry::is_edge_chunk(const std::vector<uint64_t>& chunk) const noexcept
{
    for (size_t d = 0; d < ndim(); ++d) {
        if (sizes_[d] != 0 && (chunk[d] + 1) * chunks_[d] > sizes_[d]) {
            return true;
        }
    }
    return false;
}

uint64_t
Geometry::chunks_expected_in_shard(const std::vector<uint64_t>& shard) const
{
    uint64_t expected = 1;
    for (size_t d = 0; d < ndim(); ++d) {
        const uint64_t first = shard[d] * shard_chunks_[d];
        uint64_t here = shard_chunks_[d];
        if (chunk_counts_[d] != 0) {
            here = first >= chunk_counts_[d]
                     ? 0
                     : std::min(shard_chunks_[d], chunk_counts_[d] - first);
        }
        expected *= here;
    }
    return expected;
}

bool
Geometry::swaps_frame_axes() const noexcept
{
    return !order_.empty() && order_.back() == ndim() - 2;
}

std::vector<uint64_t>
Geometry::stored(const std::vector<uint64_t>& coords) const
{
    const size_t first = virtual_leading_ ? 1 : 0;
    std::vector<uint64_t> out;
    out.reserve(ndim() - first);
    for (size_t k = first; k < ndim(); ++k) {
        out.push_back(coords[order_.empty() ? k : order_[k]]);
    }
    return out;
}

uint64_t
Geometry::index_in_shard(const std::vector<uint64_t>& chunk) const noexcept
{
    uint64_t index = 0;
    for (size_t k = 0; k < ndim(); ++k) {
        const size_t d = order_.empty() ? k : order_[k];
        index = index * shard_chunks_[d] + chunk[d] % shard_chunks_[d];
    }
    return index;
}

uint64_t
Geometry::rank_in_shard(const std::vector<uint64_t>& chunk) const noexcept
{
    uint64_t rank = 0;
    for (size_t d = 0; d < ndim(); ++d) {
        const uint64_t first = chunk[d] / shard_chunks_[d] * shard_chunks_[d];
        const uint64_t here = chunk_counts_[d] == 0
                                ? shard_chunks_[d]
                                : std::min(shard_chunks_[d], chunk_counts_[d] - first);
        rank = rank * here + chunk[d] % shard_chunks_[d];
    }
    return rank;
}

uint64_t
Geometry::groups_per_slab() const noexcept
{
    uint64_t groups = 1;
    for (size_t d = 1; d + 2 < ndim(); ++d) {
        groups *= chunk_counts()[d];
    }
    return groups;
}

} // namespace zarr
