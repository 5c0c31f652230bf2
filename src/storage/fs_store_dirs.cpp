#include "fs_store_dirs.hh"

#include "../util/error.hh"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace zarr::storage {

bool
BoundedOrderedSet::contains(const std::string& s, bool refresh)
{
    const auto it = index_.find(s);
    if (it == index_.end()) {
        return false;
    }
    if (refresh) {
        order_.splice(order_.end(), order_, it->second);
    }
    return true;
}

std::vector<std::string>
BoundedOrderedSet::insert(const std::string& s, bool refresh, size_t evict_count)
{
    if (contains(s, refresh)) {
        return {};
    }
    order_.push_back(s);
    index_.emplace(order_.back(), std::prev(order_.end()));
    std::vector<std::string> evicted;
    if (order_.size() > capacity_) {
        for (size_t n = std::max<size_t>(evict_count, 1); n > 0 && !order_.empty(); --n) {
            index_.erase(order_.front());
            evicted.push_back(std::move(order_.front()));
            order_.pop_front();
        }
    }
    return evicted;
}

std::vector<std::string>
BoundedOrderedSet::take_all()
{
    index_.clear();
    std::vector<std::string> all(std::make_move_iterator(order_.begin()),
                                 std::make_move_iterator(order_.end()));
    order_.clear();
    return all;
}

StoreDirectories::StoreDirectories(std::string root,
                                   size_t known_capacity,
                                   size_t unsynced_capacity)
  : root_(std::move(root))
  , known_(known_capacity)
  , unsynced_(unsynced_capacity)
{
}

bool
StoreDirectories::known(const std::string& dir)
{
    std::lock_guard lock(mutex_);
    return known_.contains(dir, true);
}

void
StoreDirectories::created(const std::string& dir)
{
    // The directory and each parent inside the store: any of them may have
    // just got a new entry (create_directories does not say which).
    std::vector<std::string> dirs{ dir };
    for (size_t slash = dir.rfind('/'); slash != std::string::npos && slash >= root_.size();
         slash = dir.rfind('/', slash - 1)) {
        dirs.push_back(dir.substr(0, slash));
        if (slash == 0) {
            break;
        }
    }
    {
        std::lock_guard lock(mutex_);
        known_.insert(dir, true);
    }
    mark_unsynced(dirs);
}

void
StoreDirectories::changed(const std::string& dir)
{
    mark_unsynced({ dir });
}

void
StoreDirectories::mark_unsynced(const std::vector<std::string>& dirs)
{
    std::lock_guard lock(mutex_);
    for (const auto& dir : dirs) {
        // The oldest half goes when the set is full: their entries became
        // durable with the filesystem's own write-back long ago, and the
        // syncfs of close covers them in any case. An fsync each here
        // would stall the writing thread (a few ms per directory).
        unsynced_.insert(dir, false, unsynced_.capacity() / 2);
    }
}

void
StoreDirectories::node_written(const std::string& dir)
{
    if (dir == root_) {
        return; // the store checks its root itself
    }
    std::lock_guard lock(mutex_);
    nodes_.insert(dir);
}

std::optional<std::string>
StoreDirectories::node_at_or_above(const std::string& dir)
{
    std::lock_guard lock(mutex_);
    std::optional<std::string> deepest;
    for (const auto& node : nodes_) {
        if ((dir == node || dir.starts_with(node + "/")) &&
            (!deepest || node.size() > deepest->size())) {
            deepest = node;
        }
    }
    return deepest;
}

std::optional<std::string>
StoreDirectories::removed_node_at_or_above(const std::string& dir)
{
    std::vector<std::string> nodes; // those at or above `dir`, root first
    {
        std::lock_guard lock(mutex_);
        for (const auto& node : nodes_) {
            if (dir == node || dir.starts_with(node + "/")) {
                nodes.push_back(node);
            }
        }
    }
    for (const auto& node : nodes) {
        struct stat st{};
        if (::stat(node.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            return node;
        }
    }
    return std::nullopt;
}

void
StoreDirectories::sync_all()
{
    std::vector<std::string> dirs;
    {
        std::lock_guard lock(mutex_);
        dirs = unsynced_.take_all();
    }
    fsync_dirs(dirs);
}

void
StoreDirectories::fsync_dirs(const std::vector<std::string>& dirs)
{
    for (const auto& dir : dirs) {
        const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                // Deleted since (an array replaced, or removed under the
                // stream): no entries left to persist. Writes into it fail
                // and report the loss.
                continue;
            }
            fail(ZarrStatusCode_IOError, "cannot open directory '", dir, "': ",
                 std::strerror(errno));
        }
        const int rc = ::fsync(fd);
        const int err = errno;
        ::close(fd);
        if (rc != 0 && err != EINVAL) { // some filesystems refuse dir fsync
            fail(ZarrStatusCode_IOError, "cannot sync directory '", dir, "': ",
                 std::strerror(err));
        }
    }
}

void
StoreDirectories::forget_below(const std::string& node)
{
    const std::string below = node + "/";
    const auto gone = [&](const std::string& dir) {
        return dir == node || dir.starts_with(below);
    };
    std::lock_guard lock(mutex_);
    known_.erase_if(gone);
    unsynced_.erase_if(gone);
    std::erase_if(nodes_, gone);
}

void
StoreDirectories::reset()
{
    std::lock_guard lock(mutex_);
    known_.take_all();
    unsynced_.take_all();
    nodes_.clear();
    known_.insert(root_, true);
    unsynced_.insert(root_, false);
}

size_t
StoreDirectories::known_count()
{
    std::lock_guard lock(mutex_);
    return known_.size();
}

size_t
StoreDirectories::unsynced_count()
{
    std::lock_guard lock(mutex_);
    return unsynced_.size();
}

} // namespace zarr::storage
