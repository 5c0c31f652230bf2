// Multiscale pyramids computed on the fly.
//
// Level k+1 halves every space dimension of level k that is larger than its
// chunk; an unbounded space append dimension halves at every level. Other
// dimensions keep their size. Odd sizes round up: a block cut short by the
// far edge (2x1, 1x2, 1x1 pixels, or a lone last plane) is reduced over the
// pixels or planes that exist, the same as replicating the edge; decimate
// keeps the first element of each block.
//
// Each level's frames are reduced 2x2 in (y, x) as they arrive; frames that
// meet along a downsampled outer dimension (e.g. pairs of z planes) are then
// combined with the same reduction. Memory is a few level-sized planes.
// Each downsampling method is one reducer (reducers.hh).
#pragma once

#include "array_spec.hh"
#include "geometry.hh"
#include "metadata.hh"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace zarr {

/// How far a pyramid goes and how its levels are chunked.
struct LevelRules
{
    /// Downsampled levels at most (level 0 not counted); 0: no cap.
    uint32_t max_levels = 0;
    /// Every level keeps level 0's chunk shape (streams built from `arrays`,
    /// as acquire-zarr 0.8+ does). Otherwise (seed-era settings) a level's
    /// chunk is min(chunk, level size) per dimension.
    bool keep_chunk_shape = false;
};

/// The specs of every level, level 0 first. Level k's key is
/// join_key(group, to_string(k)). Shards per dimension shrink to what
/// covers the level.
std::vector<ArraySpec>
pyramid_levels(const ArraySpec& base,
               const std::string& group_key,
               const LevelRules& rules = {});

/// True for each dimension that level k halves to make level k+1.
std::vector<bool>
downsampled_dims(const ArraySpec& from, const ArraySpec& to);

/// The multiscales entry's "type" and "metadata" for `method`.
void
describe_downsampling(json& multiscales_entry, ZarrDownsamplingMethod method);

/// Turns the frames of one level into the frames of the next.
class Downsampler
{
  public:
    using Emit = std::function<void(const uint8_t* frame)>;

    Downsampler(const ArraySpec& from,
                const ArraySpec& to,
                ZarrDownsamplingMethod method);
    ~Downsampler();

    /// Takes the next frame of the level above, in order. Calls `emit` for
    /// every frame of the level below that this completes, in order.
    void push(const uint8_t* frame, const Emit& emit);

    /// Emits the frames still being accumulated, each reduced over the
    /// planes it received. Call at close, level by level from the top.
    void flush(const Emit& emit);

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace zarr
