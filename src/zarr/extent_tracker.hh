// The extent of an array's append dimension: the frames appended, and, for
// an unbounded array, the live metadata that follows the rows (v2: chunk
// rows, v3: shard rows) whose objects are all in the store, so that a
// reader never sees rows still being written.
#pragma once

#include "../storage/store.hh"
#include "../util/error.hh"
#include "array_spec.hh"
#include "geometry.hh"

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>

namespace zarr {

class ExtentTracker
{
  public:
    ExtentTracker(const ArraySpec& spec,
                  const Geometry& geometry,
                  storage::Store& store,
                  FirstError& errors);

    /// Counts a frame appended by the caller. Counted before the frame is
    /// scattered: a worker that completes its row caps the published extent
    /// by it.
    void frame_appended() noexcept { ++frames_; }

    /// Frames appended so far.
    uint64_t frames() const noexcept { return frames_.load(std::memory_order_relaxed); }

    /// Extent of the append dimension that the frames so far cover.
    uint64_t append_extent() const noexcept;

    /// Counts one object (v2 chunk, v3 shard) of append-chunk row `row` (v2)
    /// or shard row (v3) as stored; publishes the extent the rows all stored
    /// reach. Thread-safe.
    void object_stored(uint64_t row);

    /// Writes the metadata with the extent of the frames appended.
    void write_metadata();

    /// Rewrites the metadata with the extent it shows now (after the
    /// array's attributes changed).
    void rewrite_metadata();

    /// Writes the metadata of an unbounded array with the extent whose rows
    /// were all stored; returns it (for a bounded array, its size).
    uint64_t write_metadata_of_stored_rows();

    /// The extent of the append dimension that the metadata in the store
    /// shows (unbounded arrays).
    uint64_t published_extent()
    {
        std::lock_guard lock(mutex_);
        return published_extent_;
    }

  private:
    /// The extent whose rows are all stored (mutex_ held).
    uint64_t stored_extent() const;

    const ArraySpec& spec_;
    const Geometry& geometry_;
    storage::Store& store_;
    FirstError& errors_;
    std::atomic<uint64_t> frames_{ 0 };

    std::mutex mutex_;
    uint64_t objects_per_row_ = 1;
    uint64_t row_extent_ = 1;               // append indices per row
    std::map<uint64_t, uint64_t> row_done_; // row -> objects stored
    uint64_t rows_complete_ = 0;            // rows 0.. all stored
    uint64_t published_extent_ = 0;         // in the metadata now
};

} // namespace zarr
