// Opening the filesystem store from its config: the checks that keep a
// mistyped store_path from turning into a deleted home directory.
#include "fs_store.hh"

#include "../util/error.hh"

#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace zarr::storage {
namespace {

bool
same_path(const fs::path& a, const fs::path& b)
{
    std::error_code ec;
    return fs::equivalent(a, b, ec) && !ec;
}

/// True if `dir` is `inner` or one of its ancestors (after resolving
/// symbolic links and "..").
bool
contains(const fs::path& dir, const fs::path& inner)
{
    std::error_code ec;
    const fs::path d = fs::weakly_canonical(dir, ec);
    if (ec) {
        return false;
    }
    for (fs::path p = fs::weakly_canonical(inner, ec); !ec; p = p.parent_path()) {
        if (p == d) {
            return true;
        }
        if (p == p.parent_path()) {
            break;
        }
    }
    return false;
}

/// overwrite deletes everything in the store directory: refuse the
/// filesystem root, the home directory, the working directory, and any
/// directory that contains one of them (a typo such as "." or "..").
void
refuse_dangerous_overwrite(const fs::path& root)
{
    std::error_code ec;
    const fs::path cwd = fs::current_path(ec);
    const char* home = std::getenv("HOME");
    const char* what = nullptr;
    if (same_path(root, root.root_path())) {
        what = "the filesystem root";
    } else if (home && *home && contains(root, home)) {
        what = "the home directory or a directory containing it";
    } else if (!ec && contains(root, cwd)) {
        what = "the working directory or a directory containing it";
    }
    if (what) {
        fail(ZarrStatusCode_InvalidSettings, "store_path '", root.string(), "' is ", what,
             ": refusing to overwrite (delete) it; choose a dedicated directory "
             "for the store");
    }
}

} // namespace

std::string
FilesystemStoreConfig::name() const
{
    return fs::path(root).filename().string();
}

std::unique_ptr<Store>
open_filesystem_store(const FilesystemStoreConfig& config, bool overwrite)
{
    const fs::path root(config.root);
    std::error_code ec;
    const auto status = fs::status(root, ec);
    const bool exists = fs::exists(status);
    if (exists && !fs::is_directory(status)) {
        fail(ZarrStatusCode_InvalidSettings,
             "store_path '", config.root,
             "' exists and is not a directory");
    }
    if (overwrite && exists) {
        refuse_dangerous_overwrite(root);
    }
    try {
        auto store = make_filesystem_store(config.root);
        if (overwrite) {
            store->clear();
        }
        return store;
    } catch (const Error& e) {
        fail(ZarrStatusCode_InvalidSettings, "store_path '", config.root,
             "' is not usable: ", e.what());
    }
}

} // namespace zarr::storage
