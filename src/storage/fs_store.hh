// The filesystem store: a directory whose files are the store's objects.
#pragma once

#include "store.hh"

#include <memory>
#include <string>

namespace zarr::storage {

struct FilesystemStoreConfig
{
    std::string root; // absolute, lexically normal directory path

    /// The directory, for messages.
    std::string location() const { return root; }
    /// The directory's own name ("run.zarr" for "/data/run.zarr").
    std::string name() const;
};

/// Opens the store at `config.root`, creating the directory if missing;
/// with `overwrite`, deletes everything in it first. Refuses (InvalidSettings)
/// a root that exists and is not a directory, and, with `overwrite`, a root
/// whose deletion would take the filesystem root, the home directory or the
/// working directory with it; a directory that cannot be created, opened or
/// emptied is InvalidSettings too. Messages name `store_path`, the setting
/// users give the root as.
std::unique_ptr<Store>
open_filesystem_store(const FilesystemStoreConfig& config, bool overwrite);

} // namespace zarr::storage
