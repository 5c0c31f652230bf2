// The S3 store: objects under "<prefix>/" in one bucket.
#pragma once

#include "../store.hh"
#include "config.hh"

#include <memory>

namespace zarr::storage {

/// A store under `config.prefix` in an S3 bucket. Finds the credentials
/// (see credentials.hh) and checks at once that the endpoint answers, the
/// bucket exists and the credentials are accepted; then, with `overwrite`,
/// deletes every object under the prefix (and nothing beside it). Throws
/// zarr::Error (InvalidSettings or IOError) saying what failed, after the
/// store's location. Never reports secrets.
std::unique_ptr<Store>
open_s3_store(const S3StoreConfig& config, bool overwrite);

} // namespace zarr::storage
