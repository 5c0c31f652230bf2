// An upper bound of the memory a stream holds, from the same sizing its
// arrays and pool use.
#pragma once

#include "settings.hh"

#include <cstdint>

namespace zarr {

/// Bytes a stream built from `plan` holds at most: every level's open slab
/// of chunks and the buffers its pool keeps or has in flight, the encoded
/// chunks, shard packs, partial-frame staging, the downsamplers' planes, the
/// pool's budgets, and a fixed allowance per thread (codec contexts, stack)
/// and per stream (libraries, allocator).
uint64_t
estimate_max_memory(const StreamPlan& plan);

} // namespace zarr
