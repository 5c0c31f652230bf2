// The checks that settings.cpp, array_settings.cpp and hcs.cpp share: each
// throws InvalidSettings naming the field (with the prefix it is given, e.g.
// "arrays[2].") and the value.
#pragma once

#include "../codec/registry.hh"
#include "../util/error.hh"
#include "settings.hh"
#include "zarr.types.h"

#include <string>

namespace zarr::checks {

[[noreturn]] void
invalid(const std::string& message);

/// `s` in quotes, or NULL.
std::string
quoted(const char* s);

/// Strings that end up in JSON metadata or S3 keys must be UTF-8.
void
require_utf8(const std::string& field, const std::string& value);

/// One dimension (`field` is e.g. "dimensions[1]").
DimensionSpec
check_dimension(const ZarrDimensionProperties& d,
                const std::string& field,
                bool append_dim);

/// Limits on chunk, slab and shard sizes; `field` prefixes "dimensions[]".
void
check_sizes(const ArraySpec& array, const std::string& field);

/// The array's dimensions, type and codecs from the fields of either
/// generation; `prefix` names the struct ("" or "arrays[2]."). With two
/// dimensions the array is one bounded frame (no append dimension).
ArraySpec
array_spec_from(const std::string& prefix,
                const ZarrDimensionProperties* dimensions,
                size_t dimension_count,
                size_t min_dimensions,
                const ZarrDataType& data_type, // by reference: a C caller may store any int
                const ZarrCompressionSettings* compression,
                ZarrVersion version,
                codec::NoneCompressor none = codec::NoneCompressor::refuses_codec);

/// The plan of one array of the current API at `key` (normalised);
/// `force_image` for HCS fields of view (always an OME image group).
ArrayPlan
plan_array(const ZarrArraySettings& a,
           const std::string& prefix,
           const std::string& key,
           ZarrVersion version,
           bool force_image);

/// The arrays of `s.arrays` and `s.hcs_settings` into `plan` (whose
/// version is set), with the checks that keys neither repeat nor nest.
void
plan_arrays(const ZarrStreamSettings& s, StreamPlan& plan);

/// Appends the arrays and plate/well groups of `hcs` to `plan`.
void
plan_plates(const ZarrHCSSettings& hcs, StreamPlan& plan);

/// The keys of the fields of view of `hcs`, in plan order.
void
plate_array_keys(const ZarrHCSSettings& hcs, std::vector<std::string>& keys);

} // namespace zarr::checks
