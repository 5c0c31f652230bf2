// Checks a ZarrStreamSettings and turns it into the plan a stream runs on.
// Every rejection names the field and the value.
#pragma once

#include "../storage/store.hh"
#include "../zarr/array_spec.hh"
#include "../zarr/metadata.hh"
#include "zarr.types.h"

#include <optional>
#include <string>

namespace zarr {

struct StreamPlan
{
    std::string store_root;    // absolute directory path, or the S3 key prefix
    std::string location;      // for messages: the path, or s3://bucket/prefix
    std::optional<storage::S3StoreConfig> s3; // set: the store is in S3
    std::string output_key;    // normalised, "" for the root
    bool overwrite = false;
    bool multiscale = false;
    ZarrDownsamplingMethod downsampling = ZarrDownsamplingMethod_Decimate;
    unsigned max_threads = 1;
    json root_attributes = json::object(); // custom metadata for the root group
    ArraySpec array;                       // full resolution
    std::vector<ArraySpec> levels;         // level 0 (= array), 1, 2, ...
};

/// Validates `settings` (which may be NULL). Throws zarr::Error with
/// InvalidArgument / InvalidSettings.
StreamPlan
plan_stream(const ZarrStreamSettings* settings);

/// Normalises an output key: strips leading/trailing '/', collapses empty
/// segments; rejects ".", "..", names starting with "__", and "zarr.json"
/// (and the v2 metadata names). Throws InvalidSettings naming the key.
std::string
normalize_output_key(const std::string& key);

} // namespace zarr
