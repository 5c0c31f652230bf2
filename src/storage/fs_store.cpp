#include "fs_store.hh"

#include "descriptor_budget.hh"
#include "fs_store_dirs.hh"

#include "../util/atomic_max.hh"
#include "../util/error.hh"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace zarr::storage {

namespace {

[[noreturn]] void
fail_errno(const std::string& what, const fs::path& path, int err)
{
    fail(ZarrStatusCode_IOError,
         what,
         " '",
         path.string(),
         "': ",
         std::strerror(err));
}

[[noreturn]] void
fail_removed_node(const std::string& node)
{
    fail(ZarrStatusCode_IOError, "the directory '", node,
         "' was removed while the stream was writing to it; what was written there "
         "before is lost");
}

/// As fail_errno, but a file that cannot be created or renamed because a
/// node it belongs to (an array, a group) was removed says so.
[[noreturn]] void
fail_io(StoreDirectories& dirs, const std::string& what, const fs::path& path, int err)
{
    if (err == ENOENT) {
        if (const auto node = dirs.removed_node_at_or_above(path.parent_path().string())) {
            fail_removed_node(*node);
        }
    }
    fail_errno(what, path, err);
}

/// A unique temporary name beside `path`, hidden from listings by its
/// leading dot: ".<name>.<pid>.<n>.partial".
fs::path
temporary_beside(const fs::path& path)
{
    static std::atomic<uint64_t> counter{ 0 };
    return path.parent_path() / cat(".", path.filename().string(), ".", ::getpid(), ".",
                                    counter.fetch_add(1), ".partial");
}

/// A file written with pwrite under a temporary name and renamed into place
/// by finalize(), so that a reader (or whoever opens the store after a crash)
/// sees either no file or a complete one, never a shard without its index or
/// a truncated chunk. finalize() either syncs the file at once (metadata
/// documents, before their rename) or only starts write-back and leaves
/// durability to FilesystemStore::sync(), which syncs the whole filesystem
/// once: a sync per chunk file would leave the disk with one request at a
/// time per worker.
class FileSink final
  : public Sink
  , private DescriptorBudget::Holder
{
  public:
    /// Creates the temporary file at once (so that a name clash or a
    /// missing directory is reported by open_sink); its descriptors are
    /// then held within `budget`, closed while idle if others need them.
    /// The rename into place is recorded in `dirs`.
    FileSink(fs::path path, bool sync_now, DescriptorBudget& budget, StoreDirectories& dirs)
      : path_(std::move(path))
      , tmp_(temporary_beside(path_))
      , sync_now_(sync_now)
      , budget_(budget)
      , dirs_(dirs)
    {
        DescriptorBudget::Use use(budget_, *this);
    }
    ~FileSink() override
    {
        budget_.retire(*this);
        if (!renamed_) {
            ::unlink(tmp_.c_str()); // never finalized: nothing appears
        }
    }

    void write(uint64_t offset, const uint8_t* data, size_t n) override
    {
        const std::span<const uint8_t> part(data, n);
        write_parts(offset, std::span(&part, 1));
    }

    void write_parts(uint64_t offset,
                     std::span<const std::span<const uint8_t>> parts) override
    {
        DescriptorBudget::Use use(budget_, *this);
        size_t total = 0;
        bool direct = direct_alignment() != 0 && offset % kDirectAlign == 0;
        for (const auto& part : parts) {
            total += part.size();
            direct = direct && part.size() % kDirectAlign == 0 &&
                     reinterpret_cast<uintptr_t>(part.data()) % kDirectAlign == 0;
        }
        raise_to(end_, offset + total);
        // One pwritev per kMaxParts parts; a short write resumes inside the
        // part where it stopped.
        constexpr size_t kMaxParts = 64; // at most IOV_MAX
        iovec iov[kMaxParts];
        size_t next = 0;    // first part not yet in iov
        size_t skip = 0;    // bytes of parts[next] already written
        uint64_t at = offset;
        while (next < parts.size()) {
            size_t count = 0;
            for (size_t i = next; i < parts.size() && count < kMaxParts; ++i) {
                const size_t from = i == next ? skip : 0;
                iov[count++] = iovec{ const_cast<uint8_t*>(parts[i].data() + from),
                                      parts[i].size() - from };
            }
            const ssize_t w = ::pwritev(direct ? direct_fd_ : fd_, iov,
                                        static_cast<int>(count), static_cast<off_t>(at));
            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }
                if (direct && errno == EINVAL) {
                    // The filesystem took O_DIRECT at open but refuses this
                    // write (a logical block larger than 4 KiB, or a short
                    // write left the rest unaligned): buffered from now on.
                    direct_ok_.store(false);
                    direct = false;
                    continue;
                }
                fail_errno("cannot write", path_, errno);
            }
            at += static_cast<uint64_t>(w);
            for (size_t done = static_cast<size_t>(w); done > 0 && next < parts.size();) {
                const size_t left = parts[next].size() - skip;
                if (done < left) {
                    skip += done;
                    break;
                }
                done -= left;
                skip = 0;
                ++next;
            }
            while (next < parts.size() && parts[next].size() == skip) {
                skip = 0;
                ++next; // empty parts
            }
        }
        // Start write-back now, so dirty pages do not pile up until the file
        // is finished (the kernel would then throttle every writer at once),
        // but for a few MiB at a time: one request per small chunk would
        // cost a device notification each. Durability still comes from
        // sync().
        if (!sync_now_ && !direct &&
            unflushed_.fetch_add(total) + total >= kWriteBackBytes) {
            unflushed_.store(0);
            if (::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE) != 0) {
                fail_errno("cannot write back", path_, errno);
            }
        }
    }

    size_t direct_alignment() const noexcept override
    {
        return !sync_now_ && direct_ok_.load() ? kDirectAlign : 0;
    }

    void reserve(uint64_t bytes) override
    {
        DescriptorBudget::Use use(budget_, *this);
        // Allocating the extent once keeps concurrent writers of one large
        // file (a shard) from allocating blocks piece by piece.
        if (::fallocate(fd_, 0, 0, static_cast<off_t>(bytes)) == 0) {
            reserved_ = bytes;
        }
    }

    void finalize() override
    {
        if (renamed_) {
            return;
        }
        {
            DescriptorBudget::Use use(budget_, *this);
            const uint64_t end = end_.load();
            if (reserved_ > end && ::ftruncate(fd_, static_cast<off_t>(end)) != 0) {
                fail_errno("cannot truncate", path_, errno);
            }
            const int rc = sync_now_ ? ::fdatasync(fd_)
                                     : ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
            if (rc != 0) {
                fail_errno(sync_now_ ? "cannot sync" : "cannot write back", path_, errno);
            }
        }
        budget_.retire(*this);
        if (close_errno_ != 0) {
            fail_errno("cannot close", path_, close_errno_);
        }
        if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
            fail_io(dirs_, "cannot rename into place", path_, errno);
        }
        renamed_ = true;
        dirs_.changed(path_.parent_path().string());
    }

  private:
    static constexpr size_t kDirectAlign = 4096;
    static constexpr uint64_t kWriteBackBytes = uint64_t{ 4 } << 20;

    size_t descriptors_needed() const noexcept override
    {
        return !sync_now_ && direct_ok_.load() ? 2 : 1; // + the O_DIRECT twin
    }

    size_t open_descriptors() override
    {
        // The first open creates the temporary file; later ones (after the
        // budget closed it while idle) reopen it.
        const int create = created_ ? 0 : O_CREAT | O_EXCL;
        fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CLOEXEC | create, 0644);
        if (fd_ < 0) {
            fail_io(dirs_, created_ ? "cannot reopen" : "cannot create", path_, errno);
        }
        created_ = true;
        if (!sync_now_ && direct_ok_.load()) {
            // Page-aligned writes (uncompressed chunks) bypass the page
            // cache: one writer per file copying into the cache is slower
            // than the disk. Filesystems without O_DIRECT (tmpfs) refuse it.
            direct_fd_ = ::open(tmp_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
            if (direct_fd_ < 0) {
                direct_ok_.store(false);
            }
        }
        return direct_fd_ >= 0 ? 2 : 1;
    }

    void close_descriptors() noexcept override
    {
        if (fd_ >= 0 && ::close(fd_) != 0 && close_errno_ == 0) {
            close_errno_ = errno; // reported by finalize
        }
        fd_ = -1;
        if (direct_fd_ >= 0) {
            ::close(direct_fd_);
            direct_fd_ = -1;
        }
    }

    fs::path path_;
    fs::path tmp_;
    bool sync_now_;
    DescriptorBudget& budget_;
    StoreDirectories& dirs_;
    int fd_ = -1;        // open while held within the budget
    int direct_fd_ = -1; // the same file opened with O_DIRECT, if possible
    bool created_ = false;
    int close_errno_ = 0;
    bool renamed_ = false;
    uint64_t reserved_ = 0;
    std::atomic<uint64_t> end_{ 0 }; // one past the last byte written
    std::atomic<uint64_t> unflushed_{ 0 }; // buffered bytes not yet written back
    std::atomic<bool> direct_ok_{ true };  // false once direct I/O was refused
};

class FilesystemStore final : public Store
{
  public:
    explicit FilesystemStore(fs::path root)
      : root_(std::move(root))
      , dirs_(root_.string())
    {
        make_dirs(root_);
        // Held open so that sync() reports write-back errors of every file
        // written since (syncfs reports them per filesystem since Linux 5.8).
        root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd_ < 0) {
            fail_errno("cannot open directory", root_, errno);
        }
    }

    ~FilesystemStore() override { ::close(root_fd_); }

    std::unique_ptr<Sink> open_sink(const std::string& key) override
    {
        const fs::path path = root_ / key;
        make_dirs(path.parent_path());
        return std::make_unique<FileSink>(path, false, budget_, dirs_);
    }

    void put_atomic(const std::string& key, std::string_view data) override
    {
        // Written and synced under a temporary name, then renamed over the
        // target: a concurrent reader sees the old or the new document.
        const fs::path path = root_ / key;
        make_dirs(path.parent_path());
        FileSink sink(path, true, budget_, dirs_);
        sink.write(0, reinterpret_cast<const uint8_t*>(data.data()), data.size());
        sink.finalize();
        if (key.ends_with("zarr.json") || key.ends_with(".zarray") || key.ends_with(".zgroup")) {
            dirs_.node_written(path.parent_path().string());
        }
    }

    std::optional<std::string> get(const std::string& key) override
    {
        const fs::path path = root_ / key;
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            return std::nullopt;
        }
        std::ostringstream content;
        content << in.rdbuf();
        return content.str();
    }

    bool exists(const std::string& key) override
    {
        std::error_code ec;
        return fs::exists(root_ / key, ec);
    }

    void clear() override
    {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(root_, ec)) {
            fs::remove_all(entry.path(), ec);
            if (ec) {
                fail(ZarrStatusCode_IOError,
                     "cannot delete '",
                     entry.path().string(),
                     "': ",
                     ec.message());
            }
        }
        if (ec) {
            fail(ZarrStatusCode_IOError,
                 "cannot list '",
                 root_.string(),
                 "': ",
                 ec.message());
        }
        dirs_.reset();
    }

    void erase_node(const std::string& key) override
    {
        const fs::path node = root_ / key;
        std::error_code ec;
        fs::remove_all(node, ec);
        if (ec) {
            fail(ZarrStatusCode_IOError, "cannot delete '", node.string(), "': ",
                 ec.message());
        }
        dirs_.forget_below(node.string()); // gone: nothing to sync there
    }

    void sync() override
    {
        check_root();
        if (::syncfs(root_fd_) != 0) {
            fail_errno("cannot sync the filesystem holding", root_, errno);
        }
        dirs_.sync_all();
    }

    std::string describe(const std::string& key) const override
    {
        return (root_ / key).string();
    }

    bool writes_in_place() const noexcept override { return true; }

    bool write_failure_means_bad_location() const noexcept override { return true; }

  private:
    /// Fails if the store's directory was removed or replaced since the
    /// store was opened: recreating it would hide that what was written
    /// before is gone.
    void check_root() const
    {
        if (root_fd_ < 0) {
            return; // still creating it
        }
        struct stat held{};
        struct stat now{};
        if (::fstat(root_fd_, &held) != 0 || held.st_nlink == 0 ||
            ::stat(root_.c_str(), &now) != 0 || now.st_dev != held.st_dev ||
            now.st_ino != held.st_ino) {
            fail(ZarrStatusCode_IOError, "the store directory '", root_.string(),
                 "' was removed or replaced while the stream was writing to it; "
                 "what was written before is lost");
        }
    }

    void make_dirs(const fs::path& dir)
    {
        const std::string name = dir.string();
        if (dirs_.known(name)) {
            return;
        }
        if (root_fd_ < 0) {
            create_root();
            return;
        }
        check_root();
        // One level at a time below the deepest node (array or group) that
        // holds `dir`, never the node itself: a node removed under the
        // stream stays removed, as the root does, instead of reappearing
        // with only the files written after its removal.
        const std::string base = dirs_.node_at_or_above(name).value_or(root_.string());
        for (size_t end = base.size(); end < name.size();) {
            end = std::min(name.find('/', end + 1), name.size());
            const std::string part = name.substr(0, end);
            if (::mkdir(part.c_str(), 0777) == 0 || errno == EEXIST) {
                continue;
            }
            const int err = errno;
            if (err == ENOENT) {
                check_root();
                if (const auto node = dirs_.removed_node_at_or_above(part)) {
                    fail_removed_node(*node);
                }
            }
            fail_errno("cannot create directory", part, err);
        }
        struct stat st{};
        if (::stat(name.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            if (const auto node = dirs_.removed_node_at_or_above(name)) {
                fail_removed_node(*node); // `dir` is a node, removed
            }
            fail(ZarrStatusCode_IOError, "cannot create directory '", name,
                 "': not a directory");
        }
        // sync() also persists the entries that link it to the root.
        dirs_.created(name);
    }

    void create_root()
    {
        std::error_code ec;
        fs::create_directories(root_, ec);
        if (ec || !fs::is_directory(root_)) {
            fail(ZarrStatusCode_IOError, "cannot create directory '", root_.string(), "': ",
                 ec ? ec.message() : std::string("not a directory"));
        }
        dirs_.created(root_.string());
    }

    const fs::path root_;
    int root_fd_ = -1;
    DescriptorBudget budget_{ DescriptorBudget::default_limit() };
    StoreDirectories dirs_; // bounded: a day-long stream makes many
};

} // namespace

std::unique_ptr<Store>
make_filesystem_store(const std::string& root)
{
    return std::make_unique<FilesystemStore>(fs::path(root));
}

} // namespace zarr::storage
