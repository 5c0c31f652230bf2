// An upper bound of the memory a stream holds, from the same sizing its
// arrays and pool use.
#pragma once

#include "settings.hh"

#include <cstdint>

namespace zarr {

/// Bytes by which a stream built from `plan` grows the process's memory at
/// most, whatever the data (chunks at their worst-case compressed size) and
/// the order of appends: per level, the buffers its chunk builder and shard
/// writer hold beyond the pool's budgets (the slab being filled, prefilled
/// and idle buffers, shard indexes and packs, S3 parts), the downsamplers'
/// planes and the partial-frame staging; once for the stream, the one pool
/// every array shares (its compute and I/O budgets, bounded together with
/// the open slabs where the caller is paced on the I/O budget) and per
/// thread its scratch, libzstd contexts and a fixed allowance, and a fixed
/// allowance per stream. docs/memory.md says how close it comes.
uint64_t
estimate_max_memory(const StreamPlan& plan);

} // namespace zarr
