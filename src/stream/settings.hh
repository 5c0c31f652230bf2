// Checks a ZarrStreamSettings and turns it into the plan a stream runs on.
// Every rejection names the field and the value.
#pragma once

#include "../storage/open_store.hh"
#include "../zarr/array_spec.hh"
#include "../zarr/metadata.hh"
#include "zarr.types.h"

#include <optional>
#include <string>
#include <vector>

namespace zarr {

/// What one array is: where it lives, its levels and how the levels below
/// the first are made.
struct ArrayPlan
{
    std::string output_key; // the array's key: normalised, "" for the root
    /// An OME-NGFF image group at output_key holding the levels "0", "1"...;
    /// else level 0 is a plain array node at output_key.
    bool image = false;
    bool multiscale = false;
    ZarrDownsamplingMethod downsampling = ZarrDownsamplingMethod_Decimate;
    std::vector<ArraySpec> levels; // level 0 (full resolution), 1, 2, ...
    std::string field;             // the settings field it comes from, for messages
};

/// A group the stream writes OME-NGFF metadata of its own into (an HCS
/// plate or well), with those attributes.
struct GroupPlan
{
    std::string key;
    json attributes;
    std::string field; // the settings field it comes from, for messages
};

struct StreamPlan
{
    storage::StoreConfig store;
    bool overwrite = false;
    unsigned max_threads = 1;
    ZarrVersion version = ZarrVersion_3;
    /// Built from `arrays`/`hcs_settings` (the current API): an append
    /// that would overflow a bounded array is refused whole.
    bool from_arrays = false;
    json root_attributes = json::object(); // custom metadata for the root
    std::vector<ArrayPlan> arrays; // flat arrays, then each plate's fields
    std::vector<GroupPlan> groups; // plates and wells
};

/// Validates `settings` (which may be NULL). Throws zarr::Error with
/// InvalidArgument or InvalidSettings.
StreamPlan
plan_stream(const ZarrStreamSettings* settings);

/// The key of every array `settings` describe, in the plan's order,
/// without checking anything but the keys. Throws InvalidSettings for a key
/// that normalize_output_key refuses.
std::vector<std::string>
array_keys(const ZarrStreamSettings& settings);

/// Normalises an output key: strips leading/trailing '/', collapses empty
/// segments; rejects ".", "..", names starting with "__", and "zarr.json"
/// (and the v2 metadata names). Throws InvalidSettings naming the key.
std::string
normalize_output_key(const std::string& key);

} // namespace zarr
