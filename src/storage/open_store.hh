// Opening a store from its config: the one way layers above storage get a
// Store, without naming which kind it is.
#pragma once

#include "fs_store.hh"
#include "s3/config.hh"
#include "store.hh"

#include <memory>
#include <string>
#include <variant>

namespace zarr::storage {

using StoreConfig = std::variant<FilesystemStoreConfig, S3StoreConfig>;

/// Where the store is (a directory path, or s3://bucket/prefix), for
/// messages.
std::string
location(const StoreConfig& config);

/// The last segment of the store's location (the directory's name, or the
/// key prefix's last segment).
std::string
name(const StoreConfig& config);

/// Checks the location, opens the store there and, with `overwrite`,
/// deletes everything in it. Throws zarr::Error saying what failed: see
/// open_filesystem_store (fs_store.hh) and open_s3_store (s3/s3_store.hh).
std::unique_ptr<Store>
open_store(const StoreConfig& config, bool overwrite);

} // namespace zarr::storage
