#include "extent_tracker.hh"

#include "metadata.hh"

#include <algorithm>

namespace zarr {

ExtentTracker::ExtentTracker(const ArraySpec& spec,
                             const Geometry& geometry,
                             storage::Store& store,
                             FirstError& errors)
  : spec_(spec)
  , geometry_(geometry)
  , store_(store)
  , errors_(errors)
{
    const auto& g = geometry_;
    if (spec_.version == ZarrVersion_2) {
        objects_per_row_ = g.chunks_per_slab();
        row_extent_ = g.chunk_shape()[0];
    } else {
        objects_per_row_ = 1;
        for (size_t d = 1; d < g.ndim(); ++d) {
            objects_per_row_ *= ceil_div(g.chunk_counts()[d], g.shard_chunks()[d]);
        }
        row_extent_ = g.chunk_shape()[0] * g.shard_chunks()[0];
    }
}

uint64_t
ExtentTracker::append_extent() const noexcept
{
    if (!geometry_.unbounded()) {
        return geometry_.sizes()[0];
    }
    return ceil_div(frames(), geometry_.frames_per_append_index());
}

void
ExtentTracker::object_stored(uint64_t row)
{
    if (!geometry_.unbounded()) {
        return; // the metadata has the full shape from the start
    }
    if (errors_.failed()) {
        return; // after a failure a row may miss objects: count none
    }
    std::lock_guard lock(mutex_);
    if (++row_done_[row] < objects_per_row_) {
        return;
    }
    while (!row_done_.empty() && row_done_.begin()->first == rows_complete_ &&
           row_done_.begin()->second == objects_per_row_) {
        row_done_.erase(row_done_.begin());
        ++rows_complete_;
    }
    const uint64_t extent = stored_extent();
    if (extent > published_extent_ && !errors_.failed()) {
        // Atomic replace, in order (under the lock): a reader sees the
        // extent grow, and a crash leaves the last one written.
        write_array_metadata(store_, spec_, extent);
        published_extent_ = extent;
    }
}

uint64_t
ExtentTracker::write_metadata_of_stored_rows()
{
    std::lock_guard lock(mutex_);
    if (!geometry_.unbounded()) {
        return append_extent();
    }
    const uint64_t extent = stored_extent();
    write_array_metadata(store_, spec_, extent);
    published_extent_ = extent; // only once written: a failure leaves the last
    return extent;
}

uint64_t
ExtentTracker::stored_extent() const
{
    // A row padded at close is not all data: never beyond the frames
    // appended (close writes the exact extent last).
    return std::min(rows_complete_ * row_extent_, append_extent());
}

void
ExtentTracker::write_metadata()
{
    std::lock_guard lock(mutex_);
    published_extent_ = append_extent();
    write_array_metadata(store_, spec_, published_extent_);
}

void
ExtentTracker::rewrite_metadata()
{
    std::lock_guard lock(mutex_);
    write_array_metadata(store_, spec_, geometry_.unbounded() ? published_extent_
                                                              : append_extent());
}

} // namespace zarr
