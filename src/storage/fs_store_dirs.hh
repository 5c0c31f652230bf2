// The directories of a filesystem store, in two bounded sets: those known to
// exist (so that opening a file does not stat its directory each time) and
// those whose entries changed recently (which close fsyncs, besides the
// syncfs of the whole filesystem that makes every new file name durable). A stream that runs for a day creates
// directories without end (one per chunk row and more); both sets stay
// within a fixed size however many it creates.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zarr::storage {

/// Strings in order of use, at most `capacity` of them.
class BoundedOrderedSet
{
  public:
    explicit BoundedOrderedSet(size_t capacity)
      : capacity_(capacity)
    {
    }
    BoundedOrderedSet(const BoundedOrderedSet&) = delete;
    BoundedOrderedSet& operator=(const BoundedOrderedSet&) = delete;

    /// True if `s` is in the set; with `refresh`, it becomes the newest.
    bool contains(const std::string& s, bool refresh);

    /// Adds `s` as the newest unless present (then, with `refresh`, makes it
    /// the newest). Returns the oldest entries removed to stay within the
    /// capacity: none, or, once it is exceeded, the oldest `evict_count`.
    std::vector<std::string> insert(const std::string& s, bool refresh, size_t evict_count = 1);

    /// Removes every entry for which `drop` is true.
    template<typename Pred>
    void erase_if(Pred drop)
    {
        for (auto it = order_.begin(); it != order_.end();) {
            if (drop(*it)) {
                index_.erase(*it);
                it = order_.erase(it);
            } else {
                ++it;
            }
        }
    }

    /// Removes and returns every entry, oldest first.
    std::vector<std::string> take_all();

    size_t size() const noexcept { return order_.size(); }
    size_t capacity() const noexcept { return capacity_; }

  private:
    size_t capacity_;
    std::list<std::string> order_; // oldest first
    // Keys view the strings in order_, whose nodes never move.
    std::unordered_map<std::string_view, std::list<std::string>::iterator> index_;
};

/// The directories of one store (absolute paths as strings). Thread-safe.
class StoreDirectories
{
  public:
    static constexpr size_t kKnownCapacity = 1024;
    static constexpr size_t kUnsyncedCapacity = 256;

    explicit StoreDirectories(std::string root,
                              size_t known_capacity = kKnownCapacity,
                              size_t unsynced_capacity = kUnsyncedCapacity);

    /// True if `dir` was made or seen recently (it is then the newest).
    bool known(const std::string& dir);

    /// Records that `dir` exists and may have just been created, with its
    /// parents up to the root: each of them may have a new entry.
    void created(const std::string& dir);

    /// Records that an entry of `dir` changed (a file renamed into it).
    void changed(const std::string& dir);

    /// Records that `dir` holds a node's metadata (an array or a group).
    /// Nodes are few (fixed by the stream's settings) and kept until
    /// forget_below: a node that disappears was removed under the stream.
    void node_written(const std::string& dir);

    /// The deepest node that is `dir` or one of its parents, if any.
    std::optional<std::string> node_at_or_above(const std::string& dir);

    /// The first node that is `dir` or one of its parents and no longer
    /// exists, if any: a file written there would recreate it, hiding
    /// that what was written into it before is lost.
    std::optional<std::string> removed_node_at_or_above(const std::string& dir);

    /// fsyncs every directory whose entries changed since it was last
    /// synced, and forgets them. Throws IOError naming the directory.
    void sync_all();

    /// Forgets `node` and every directory below it (it was deleted).
    void forget_below(const std::string& node);

    /// Forgets everything but the root (the store was emptied).
    void reset();

    size_t known_count();
    size_t unsynced_count();

  private:
    /// Adds `dirs` to the unsynced set; when that exceeds its capacity, the
    /// oldest half is forgotten (the syncfs of FilesystemStore::sync covers
    /// them), so the set stays bounded and close has at most a capacity's
    /// worth of directories to fsync.
    void mark_unsynced(const std::vector<std::string>& dirs);
    static void fsync_dirs(const std::vector<std::string>& dirs);

    const std::string root_;
    std::mutex mutex_;
    BoundedOrderedSet known_;
    BoundedOrderedSet unsynced_;
    std::set<std::string> nodes_;
};

} // namespace zarr::storage
