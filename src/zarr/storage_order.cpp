#include "storage_order.hh"

#include "../util/error.hh"

#include <algorithm>

namespace zarr {
namespace {

std::string
listed(const size_t* order, size_t n)
{
    std::string s = "[";
    for (size_t i = 0; i < n; ++i) {
        s += (i == 0 ? "" : ", ") + std::to_string(order[i]);
    }
    return s + "]";
}

} // namespace

std::vector<size_t>
storage_order_from(const size_t* order,
                   const std::vector<DimensionSpec>& dims,
                   const std::string& field)
{
    if (order == nullptr) {
        return {};
    }
    const size_t n = dims.size();
    if (n < 2) {
        throw Error(ZarrStatusCode_InvalidSettings,
                    cat(field, " is set but there are ", n,
                        " dimensions: at least 2 (height, width) are needed"));
    }
    const std::string given = cat(field, " is ", listed(order, n));
    std::vector<bool> seen(n);
    for (size_t k = 0; k < n; ++k) {
        if (order[k] >= n || seen[order[k]]) {
            throw Error(ZarrStatusCode_InvalidSettings,
                        cat(given, ": not a permutation of the dimension indices 0..",
                            n - 1));
        }
        seen[order[k]] = true;
    }
    // An array of more than two dimensions appends along its first; a 2-D
    // array is one frame, whose axes may swap.
    if (n > 2 && order[0] != 0) {
        throw Error(ZarrStatusCode_InvalidSettings,
                    cat(given, ": the append dimension '", dims[0].name,
                        "' (0) must stay first"));
    }
    if (std::min(order[n - 2], order[n - 1]) != n - 2) {
        throw Error(ZarrStatusCode_InvalidSettings,
                    cat(given, ": the frame dimensions '", dims[n - 2].name, "' (", n - 2,
                        ") and '", dims[n - 1].name, "' (", n - 1,
                        ") must stay in the last two places (they may swap)"));
    }
    std::vector<size_t> stored(order, order + n);
    for (size_t k = 0; k < n; ++k) {
        if (stored[k] != k) {
            return stored;
        }
    }
    return {};
}

bool
planes_arrive_in_order(const ArraySpec& spec)
{
    const auto& order = spec.storage_order;
    if (order.empty()) {
        return true;
    }
    const size_t n = order.size();
    if (order[n - 2] != n - 2) {
        return false;
    }
    size_t last = 0; // the last dimension of several planes seen, plus one
    for (size_t k = 0; k + 2 < n; ++k) {
        const size_t d = order[k];
        if (spec.dims[d].chunk > 1) {
            if (d + 1 < last) {
                return false;
            }
            last = d + 1;
        }
    }
    return true;
}

} // namespace zarr
