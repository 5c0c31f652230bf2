// The order of an array's axes in storage, when it differs from the order
// frames are acquired in (acquire-zarr's storage_dimension_order).
//
// An ArraySpec's `dims` are always in acquisition order; its
// `storage_order[k]` is the index in `dims` of the k-th stored axis (empty:
// acquisition order). The append dimension stays first, and the frame's two
// axes stay last, in either order: a frame is then one plane of each chunk
// it touches, so every frame is still copied once, straight to its place.
#pragma once

#include "array_spec.hh"

#include <cstddef>
#include <string>
#include <vector>

namespace zarr {

/// The storage order that `order` (NULL, or dims.size() indices into
/// `dims`) asks for: empty for NULL or the identity. Throws
/// zarr::Error(InvalidSettings), naming `field` and the order, for an order
/// that is not a permutation, moves the append dimension from the first
/// place, or moves a frame axis out of the last two places.
std::vector<size_t>
storage_order_from(const size_t* order,
                   const std::vector<DimensionSpec>& dims,
                   const std::string& field);

/// True if every chunk of `spec` receives its y/x planes in the order they
/// are stored: its frame axes are not swapped, and the outer dimensions of
/// more than one plane per chunk keep their relative order (those of one
/// plane per chunk may move freely).
bool
planes_arrive_in_order(const ArraySpec& spec);

/// `values` (one per dimension, acquisition order) in storage order.
template<typename T>
std::vector<T>
in_storage_order(const std::vector<T>& values, const std::vector<size_t>& order)
{
    if (order.empty()) {
        return values;
    }
    std::vector<T> stored;
    stored.reserve(order.size());
    for (size_t d : order) {
        stored.push_back(values[d]);
    }
    return stored;
}

} // namespace zarr
