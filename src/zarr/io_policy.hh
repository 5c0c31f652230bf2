// The I/O policy: every threshold, budget and alignment that decides how an
// array's chunks are built and written, and how the stream's pool is sized,
// each with the reason for its value. The measurements behind them are in
// benchmarks/README.md, under the tag each reason cites.
#pragma once

#include "../codec/blosc1.hh"
#include "../util/thread_pool.hh"
#include "array_spec.hh"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace zarr::io_policy {

/// Frames of planes that may wait for the workers (compression plane by
/// plane, and uncompressed planes written in place): enough to keep every
/// core busy, far less than a slab.
inline constexpr uint64_t kStagedFrames = 3;

/// Bytes of buffers an array prefills at creation, their pages faulted in,
/// at most: a first touch costs about as much as the copy that follows it,
/// and the first chunks are built before any write can start, so what they
/// spend on page faults is lost to the disk. The cap bounds the time a
/// stream's creation spends on page faults (benchmarks/README.md: prefill);
/// what a stream with larger frames or chunks needs beyond it is faulted in
/// as it first needs it.
inline constexpr uint64_t kMaxPrefillBytes = uint64_t{ 256 } << 20;

/// Buffers of chunks compressed whole warmed per job: few, so that warming
/// never holds up a write queued behind it.
inline constexpr size_t kWarmStep = 4;

/// Compressed chunks at least this large are written by direct I/O (placed
/// on an aligned offset, their last block zero-filled). Smaller ones stay
/// buffered: padding would waste a larger share of the disk, and a
/// synchronous write of a few KiB holds a worker for little gain. Also the
/// size under which a chunk compressed plane by plane is stored by the
/// worker that finishes it instead of an I/O thread.
inline constexpr size_t kMinDirectChunk = size_t{ 256 } << 10;

/// Small v3 chunks of a shard (under kMinDirectChunk, in a store that
/// writes in place) are packed into buffers of this size, each written by
/// direct I/O when it fills or when the shard's last chunk arrives: a few
/// large writes in place of many small buffered ones, which the page cache
/// throttled in long runs, and one block of padding per pack instead of one
/// per chunk.
inline constexpr size_t kPackBytes = size_t{ 4 } << 20;

/// Idle pack buffers kept for reuse.
inline constexpr size_t kIdlePacks = 4;

/// Chunks (or planes) handed to a worker in one job: at least this many
/// bytes. One wake-up, queue operation and compute slot per chunk of 128
/// KiB costs the workers as much as compressing it.
inline constexpr uint64_t kMinJobBytes = uint64_t{ 1 } << 20;

/// Uncompressed chunks written plane by plane: each request writes a
/// chunk's planes of this many bytes at least (a few frames' worth): direct
/// writes of 128 KiB at scattered offsets run well below the disk's speed,
/// those of 512 KiB at its full speed (benchmarks/README.md: plane-writes).
inline constexpr uint64_t kMinPlaneWrite = uint64_t{ 512 } << 10;

/// Frames whose planes each such write covers: kMinPlaneWrite's worth of
/// planes of `plane_bytes`, at most a chunk's `planes_per_chunk`.
uint64_t
plane_write_frames(uint64_t plane_bytes, uint64_t planes_per_chunk);

/// The smallest segment of a chunk compressed plane by plane: small enough
/// that the part of the last segment a chunk leaves unused is little.
inline constexpr size_t kMinSegmentBytes = size_t{ 256 } << 10;

/// Bytes of each segment of a chunk compressed plane by plane: room for a
/// plane compressed in place, twice over, so that most planes are (the
/// others are compressed apart and copied in); the first segment also holds
/// the chunk's offset table.
size_t
segment_bytes(const codec::BloscPlanes& planes);

/// Bytes the stream's pool should let the jobs of a writer of `spec` hold:
/// a slab of chunks completed at once, or (`planes`: chunks compressed or
/// written plane by plane) a few frames of planes.
uint64_t
bytes_in_flight(const ArraySpec& spec, bool planes);

/// The stream's pool for `levels` (level 0 first), whose chunks are
/// compressed plane by plane where `plans` has a plan, with `max_threads`
/// compressing at once.
ThreadPool::Config
pool_config(std::span<const ArraySpec> levels,
            std::span<const std::optional<codec::BloscPlanes>> plans,
            unsigned max_threads);

} // namespace zarr::io_policy
