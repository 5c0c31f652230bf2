// The arrays of a stream built from `arrays` and `hcs_settings` (the current
// API): each array's plan, and the checks that keys neither repeat nor sit
// inside another array's node (docs/format.md, Layout of streams built from
// arrays).
#include "settings.hh"

#include "../codec/registry.hh"
#include "../util/raw_enum.hh"
#include "../zarr/pyramid.hh"
#include "../zarr/storage_order.hh"
#include "settings_checks.hh"

#include <map>
#include <set>

namespace zarr {

using namespace checks;

namespace {

/// Dimensions an array of the current API needs at least: two make one
/// bounded y x image.
constexpr size_t kMinArrayDimensions = 2;

/// The normalised key of `output_key`, the refusal naming `field`.
std::string
normalized_key(const char* output_key, const std::string& field)
{
    try {
        std::string key = normalize_output_key(output_key == nullptr ? "" : output_key);
        require_utf8(field, key);
        return key;
    } catch (const Error& e) {
        throw Error(e.code(), cat(field, ": ", e.what()));
    }
}

struct Node
{
    std::string key;
    std::string field; // names it in messages
    bool array = false;
};

/// Two nodes may not have one key, and nothing may sit inside an array's
/// node (a plain array, or an image group and its levels).
void
check_layout(const StreamPlan& plan)
{
    std::vector<Node> nodes;
    for (const auto& a : plan.arrays) {
        nodes.push_back({ a.output_key, a.field, true });
    }
    for (const auto& g : plan.groups) {
        nodes.push_back({ g.key, g.field, false });
    }
    std::map<std::string, const Node*> by_key;
    for (const auto& node : nodes) {
        const auto [it, fresh] = by_key.emplace(node.key, &node);
        if (!fresh) {
            invalid(cat(it->second->field, " and ", node.field, " are both the key '",
                        node.key, "': every array and plate needs a node of its own"));
        }
    }
    for (const auto& node : nodes) {
        if (node.key.empty()) {
            continue;
        }
        // Every proper ancestor, the root first.
        for (size_t end = 0; end != std::string::npos; end = node.key.find('/', end + 1)) {
            const std::string ancestor = node.key.substr(0, end);
            const auto it = by_key.find(ancestor);
            if (it != by_key.end() && it->second->array) {
                invalid(cat(node.field, " lies inside the node of ", it->second->field,
                            " ('", ancestor.empty() ? std::string("the root") : ancestor,
                            "'), which is an array or image group"));
            }
        }
    }
}

} // namespace

ArraySpec
checks::array_spec_from(const std::string& prefix,
                        const ZarrDimensionProperties* dimensions,
                        size_t dimension_count,
                        size_t min_dimensions,
                        const ZarrDataType& data_type,
                        const ZarrCompressionSettings* compression,
                        ZarrVersion version,
                        codec::NoneCompressor none)
{
    if (static_cast<unsigned>(raw_enum(data_type)) >= ZarrDataTypeCount) {
        invalid(cat(prefix, "data_type is ", raw_enum(data_type),
                    ": must be a ZarrDataType (0..", ZarrDataTypeCount - 1, ")"));
    }
    if (dimension_count < min_dimensions) {
        invalid(cat(prefix, "dimension_count is ", dimension_count, ": at least ",
                    min_dimensions, " dimensions are needed (",
                    min_dimensions == 2 ? "height, width" : "append dimension, height, width",
                    ")"));
    }
    if (dimensions == nullptr) {
        invalid(cat(prefix, "dimensions is NULL but dimension_count is ", dimension_count));
    }
    if (dimension_count > 32) {
        invalid(cat(prefix, "dimension_count is ", dimension_count,
                    ": at most 32 dimensions are supported"));
    }

    ArraySpec array;
    array.dtype = data_type;
    array.version = version;
    std::set<std::string> names;
    for (size_t i = 0; i < dimension_count; ++i) {
        const std::string field = cat(prefix, "dimensions[", i, "]");
        array.dims.push_back(
          check_dimension(dimensions[i], field, i == 0 && dimension_count >= 3));
        if (!names.insert(array.dims.back().name).second) {
            invalid(cat(field, ".name '", array.dims.back().name,
                        "' is used by another dimension: names must be unique"));
        }
    }
    try {
        array.codecs = codec::chain_from_settings(compression, bytes_of(data_type), none);
    } catch (const Error& e) {
        if (prefix.empty()) {
            throw;
        }
        throw Error(e.code(), prefix + e.what());
    }
    check_sizes(array, prefix);
    return array;
}

ArrayPlan
checks::plan_array(const ZarrArraySettings& a,
                   const std::string& prefix,
                   const std::string& key,
                   ZarrVersion version,
                   bool force_image)
{
    ArrayPlan plan;
    ArraySpec array = array_spec_from(prefix, a.dimensions, a.dimension_count,
                                      kMinArrayDimensions, a.data_type,
                                      a.compression_settings, version,
                                      codec::NoneCompressor::ignores_codec);
    array.storage_order = storage_order_from(a.storage_dimension_order, array.dims,
                                             prefix + "storage_dimension_order");
    if (a.multiscale &&
        static_cast<unsigned>(raw_enum(a.downsampling_method)) >= ZarrDownsamplingMethodCount) {
        invalid(cat(prefix, "downsampling_method is ", raw_enum(a.downsampling_method),
                    ": must be a ZarrDownsamplingMethod (0..",
                    ZarrDownsamplingMethodCount - 1, ")"));
    }
    plan.output_key = key;
    plan.multiscale = a.multiscale;
    plan.downsampling = a.multiscale ? a.downsampling_method : ZarrDownsamplingMethod_Decimate;
    plan.image = force_image || a.multiscale || a.is_ngff;
    array.key = plan.image ? join_key(key, "0") : key;
    // Every level keeps level 0's chunk shape, as acquire-zarr 0.8+ does.
    plan.levels = plan.multiscale
                    ? pyramid_levels(array, key,
                                     { .max_levels = a.max_levels, .keep_chunk_shape = true })
                    : std::vector<ArraySpec>{ array };
    return plan;
}

void
checks::plan_arrays(const ZarrStreamSettings& s, StreamPlan& plan)
{
    if (s.array_count != 0 && s.arrays == nullptr) {
        invalid(cat("arrays is NULL but array_count is ", s.array_count));
    }
    for (size_t i = 0; i < s.array_count; ++i) {
        const std::string prefix = cat("arrays[", i, "].");
        const std::string key = normalized_key(s.arrays[i].output_key, prefix + "output_key");
        plan.arrays.push_back(plan_array(s.arrays[i], prefix, key, plan.version, false));
        plan.arrays.back().field = cat(prefix, "output_key '", key, "'");
    }
    if (s.hcs_settings != nullptr) {
        plan_plates(*s.hcs_settings, plan);
    }
    if (plan.arrays.empty()) {
        invalid("arrays (array_count 0) and hcs_settings describe no array: a stream "
                "needs at least one");
    }
    check_layout(plan);
}

std::vector<std::string>
array_keys(const ZarrStreamSettings& s)
{
    std::vector<std::string> keys;
    if (s.array_count == 0 && s.arrays == nullptr && s.hcs_settings == nullptr) {
        keys.push_back(normalized_key(s.output_key, "output_key"));
        return keys;
    }
    if (s.array_count != 0 && s.arrays == nullptr) {
        invalid(cat("arrays is NULL but array_count is ", s.array_count));
    }
    for (size_t i = 0; i < s.array_count; ++i) {
        keys.push_back(normalized_key(s.arrays[i].output_key, cat("arrays[", i, "].output_key")));
    }
    if (s.hcs_settings != nullptr) {
        plate_array_keys(*s.hcs_settings, keys);
    }
    return keys;
}

} // namespace zarr
