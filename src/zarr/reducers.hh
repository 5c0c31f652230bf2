// Downsampling methods: one reducer policy each.
//
// A reducer turns the elements of one block of a level into one element of
// the level below. It combines a full 2x2 block at once (the hot loop), or
// element by element: starting from the first element (cast to `Acc`),
// `combine` adds the next, and `finish` makes the result. `finish` is told
// how many elements the block holds: at an odd edge a block is cut short
// (2x1, 1x2, 1x1, or a lone last plane) and reduces over the elements that
// exist, which is what replicating the edge gives; nothing stands in for the
// missing ones, because a 0 would darken MIN and MEAN at every level (the
// acquire-zarr #226 corruption report). The same steps combine the
// planes that meet along a downsampled outer dimension (e.g. pairs of z),
// element by element. A reducer also describes itself in the OME-NGFF
// multiscales entry: its `type` and `metadata()`.
//
// Adding a method: a reducer here, its ZarrDownsamplingMethod value (and the
// bindings' enum), and its entry in the table in pyramid.cpp.
#pragma once

#include "../util/error.hh"
#include "metadata.hh"

#include <cstdint>
#include <string>
#include <type_traits>

namespace zarr::reducers {

__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

/// Wide enough to sum the elements of any block exactly (floats: as double).
template<typename T>
using wide_t = std::conditional_t<
  std::is_floating_point_v<T>,
  double,
  std::conditional_t<(sizeof(T) < 8),
                     int64_t,
                     std::conditional_t<std::is_signed_v<T>, int128, uint128>>>;

/// What every method's description adds about edges and outer dimensions.
inline constexpr const char* kDescriptionNote =
  " Odd sizes round up: a block cut short by the far edge (2x1, 1x2 or 1x1"
  " elements, or a lone last plane) is reduced over the elements that exist,"
  " which equals replicating the edge (as np.pad(mode='edge') does) before"
  " reducing; nothing is padded with zeros. The method, called with its"
  " args and kwargs, reproduces the interior blocks."
  " Along a downsampled dimension other than y/x (e.g. z), planes 2i and"
  " 2i+1 of the level above are combined with the same reduction, after"
  " each was reduced in (y, x) and cast to the array's data type."
  " A level halves only the axes whose scale doubles.";

/// Keeps the first (top-left) element of each block.
struct Decimate
{
    template<typename T>
    using Acc = T;

    template<typename T>
    static T block4(T a, T, T, T)
    {
        return a;
    }

    template<typename T>
    static void combine(Acc<T>&, T)
    {
    }

    template<typename T>
    static T finish(Acc<T> acc, uint64_t)
    {
        return acc;
    }

    static constexpr const char* type = "decimate";

    static json metadata()
    {
        return {
            { "description",
              std::string("Each level keeps the first (top-left) element of "
                          "every 2x2 block of the level above.") +
                kDescriptionNote },
            { "method", "np.ndarray.__getitem__" },
            { "version", "1.20" },
            { "args", json::array({ "(slice(0, None, 2), slice(0, None, 2))" }) },
        };
    }
};

/// The mean of each block, summed exactly and divided by the number of
/// elements it holds (fewer at an odd edge); integers truncate toward zero.
struct Mean
{
    template<typename T>
    using Acc = wide_t<T>;

    template<typename T>
    static T block4(T a, T b, T c, T d)
    {
        using W = wide_t<T>;
        return static_cast<T>((W(a) + W(b) + W(c) + W(d)) / W(4));
    }

    template<typename T>
    static void combine(Acc<T>& acc, T v)
    {
        acc += static_cast<Acc<T>>(v);
    }

    template<typename T>
    static T finish(Acc<T> acc, uint64_t n)
    {
        return static_cast<T>(acc / static_cast<Acc<T>>(n));
    }

    static constexpr const char* type = "local_mean";

    static json metadata()
    {
        return {
            { "description",
              std::string("Each level is the mean of every 2x2 block of the "
                          "level above; for integer types the exact mean "
                          "truncated toward zero, as a float mean followed "
                          "by numpy astype gives.") +
                kDescriptionNote },
            { "method", "skimage.transform.downscale_local_mean" },
            { "version", "0.19" },
            { "kwargs", { { "factors", "(2, 2)" } } },
        };
    }
};

/// The minimum (`Smallest`) or maximum of the elements each block holds.
template<bool Smallest>
struct Extreme
{
    template<typename T>
    using Acc = T;

    // With unordered elements (NaN) the order of the comparisons decides
    // which one wins: block4 pairs (a, b) and (c, d) and never reorders, so
    // that stored results do not change.
    template<typename T>
    static T pick(T a, T b)
    {
        if constexpr (Smallest) {
            return b < a ? b : a;
        } else {
            return a < b ? b : a;
        }
    }

    template<typename T>
    static T block4(T a, T b, T c, T d)
    {
        return pick(pick(a, b), pick(c, d));
    }

    template<typename T>
    static void combine(Acc<T>& acc, T v)
    {
        acc = pick(acc, v);
    }

    template<typename T>
    static T finish(Acc<T> acc, uint64_t)
    {
        return acc;
    }

    static constexpr const char* type = Smallest ? "local_min" : "local_max";

    static json metadata()
    {
        return {
            { "description",
              cat("Each level is the ", Smallest ? "minimum" : "maximum",
                  " of every 2x2 block of the level above.", kDescriptionNote) },
            { "method", "skimage.measure.block_reduce" },
            { "version", "0.19" },
            { "kwargs",
              { { "block_size", "(2, 2)" },
                { "func", Smallest ? "np.min" : "np.max" } } },
        };
    }
};

using Min = Extreme<true>;
using Max = Extreme<false>;

} // namespace zarr::reducers
