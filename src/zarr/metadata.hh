// Zarr v2/v3 metadata documents and OME-NGFF 0.4/0.5 multiscales entries.
#pragma once

#include "../storage/store.hh"
#include "array_spec.hh"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace zarr {

using json = nlohmann::ordered_json;

/// The array document (.zarray for v2, zarr.json for v3) with the append
/// dimension's extent set to `append_extent` (an unbounded one; a bounded
/// one has its size), its axes in storage order.
json
array_document(const ArraySpec& spec, uint64_t append_extent);

/// Writes the array document atomically.
void
write_array_metadata(storage::Store& store,
                     const ArraySpec& spec,
                     uint64_t append_extent);

/// One dataset of an image pyramid: its path relative to the image group and
/// its per-axis scale.
struct OmeDataset
{
    std::string path;
    std::vector<double> scale;
};

/// The OME-NGFF multiscales entry (without the version for 0.5, with
/// "version":"0.4" for v2) describing `datasets`, with axes from `dims`.
/// `dims` and each dataset's scale are in acquisition order; the entry has
/// them in `storage_order` (ArraySpec::storage_order; empty: as given).
json
ome_multiscales_entry(const std::string& name,
                      const std::vector<DimensionSpec>& dims,
                      const std::vector<OmeDataset>& datasets,
                      ZarrVersion version,
                      const std::vector<size_t>& storage_order = {});

/// Creates the group at `group_key` ("" for the root) if it has no metadata
/// yet, and merges `attributes` (a JSON object) into its attributes,
/// keeping attributes that are already there unless `attributes` replaces
/// them. For v3 the attributes live in zarr.json, for v2 in .zattrs.
void
update_group(storage::Store& store,
             const std::string& group_key,
             ZarrVersion version,
             const json& attributes);

/// Wraps an OME multiscales entry into the attributes of an image group.
json
ome_group_attributes(const json& multiscales_entry, ZarrVersion version);

} // namespace zarr
