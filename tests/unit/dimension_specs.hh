// Dimensions for the tests of the array's geometry, given as numbers only.
#pragma once

#include "zarr/array_spec.hh"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace zarr::test {

/// Dimensions named n0, n1, ... from {size, chunk, shard} each.
inline std::vector<DimensionSpec>
dims(const std::vector<std::array<uint64_t, 3>>& specs)
{
    std::vector<DimensionSpec> out;
    for (size_t i = 0; i < specs.size(); ++i) {
        DimensionSpec d;
        d.name = "n" + std::to_string(i);
        d.size = specs[i][0];
        d.chunk = specs[i][1];
        d.shard_chunks = specs[i][2];
        out.push_back(d);
    }
    return out;
}

} // namespace zarr::test
