#include "metadata.hh"

#include "../util/error.hh"
#include "storage_order.hh"

namespace zarr {
namespace {

const char*
v2_dtype(ZarrDataType dtype)
{
    switch (dtype) {
        case ZarrDataType_uint8:
            return "|u1";
        case ZarrDataType_uint16:
            return "<u2";
        case ZarrDataType_uint32:
            return "<u4";
        case ZarrDataType_uint64:
            return "<u8";
        case ZarrDataType_int8:
            return "|i1";
        case ZarrDataType_int16:
            return "<i2";
        case ZarrDataType_int32:
            return "<i4";
        case ZarrDataType_int64:
            return "<i8";
        case ZarrDataType_float32:
            return "<f4";
        case ZarrDataType_float64:
            return "<f8";
        case ZarrDataTypeCount:
            break;
    }
    fail(ZarrStatusCode_InvalidArgument, "invalid data type ", int(dtype));
}

json
fill_value(ZarrDataType dtype)
{
    return is_float(dtype) ? json(0.0) : json(0);
}

std::vector<uint64_t>
shape_of(const ArraySpec& spec, uint64_t append_extent)
{
    std::vector<uint64_t> shape;
    for (const auto& dim : spec.dims) {
        shape.push_back(dim.size);
    }
    // A bounded append dimension always has its size (a 2-D array has none).
    if (spec.dims[0].size == 0) {
        shape[0] = append_extent;
    }
    return in_storage_order(shape, spec.storage_order);
}

json
v2_array(const ArraySpec& spec, uint64_t append_extent)
{
    std::vector<uint64_t> chunks;
    for (const auto& dim : spec.dims) {
        chunks.push_back(dim.chunk);
    }
    return json{ { "zarr_format", 2 },
                 { "shape", shape_of(spec, append_extent) },
                 { "chunks", in_storage_order(chunks, spec.storage_order) },
                 { "dtype", v2_dtype(spec.dtype) },
                 { "compressor", spec.codecs.v2_compressor() },
                 { "fill_value", fill_value(spec.dtype) },
                 { "order", "C" },
                 { "filters", nullptr },
                 { "dimension_separator", "/" } };
}

json
v3_array(const ArraySpec& spec, uint64_t append_extent)
{
    std::vector<uint64_t> inner;
    std::vector<uint64_t> shard;
    std::vector<std::string> names;
    for (const auto& dim : spec.dims) {
        inner.push_back(dim.chunk);
        shard.push_back(dim.chunk * (dim.shard_chunks == 0 ? 1 : dim.shard_chunks));
        names.push_back(dim.name);
    }
    inner = in_storage_order(inner, spec.storage_order);
    shard = in_storage_order(shard, spec.storage_order);
    names = in_storage_order(names, spec.storage_order);
    const json sharding = {
        { "name", "sharding_indexed" },
        { "configuration",
          { { "chunk_shape", inner },
            { "codecs", spec.codecs.v3_codecs() },
            { "index_codecs",
              json::array({ codec::bytes_codec_v3(), { { "name", "crc32c" } } }) },
            { "index_location", "end" } } }
    };
    return json{
        { "zarr_format", 3 },
        { "node_type", "array" },
        { "shape", shape_of(spec, append_extent) },
        { "data_type", dtype_name(spec.dtype) },
        { "chunk_grid",
          { { "name", "regular" }, { "configuration", { { "chunk_shape", shard } } } } },
        { "chunk_key_encoding",
          { { "name", "default" }, { "configuration", { { "separator", "/" } } } } },
        { "fill_value", fill_value(spec.dtype) },
        { "codecs", json::array({ sharding }) },
        { "attributes",
          spec.attributes ? json::parse(spec.attributes->get()) : json::object() },
        { "dimension_names", names },
        { "storage_transformers", json::array() },
    };
}

const char*
axis_type(ZarrDimensionType type)
{
    switch (type) {
        case ZarrDimensionType_Space:
            return "space";
        case ZarrDimensionType_Channel:
            return "channel";
        case ZarrDimensionType_Time:
            return "time";
        case ZarrDimensionType_Other:
        case ZarrDimensionTypeCount:
            break;
    }
    return "other";
}

std::string
pretty(const json& doc)
{
    return doc.dump(4) + "\n";
}

} // namespace

json
array_document(const ArraySpec& spec, uint64_t append_extent)
{
    return spec.version == ZarrVersion_2 ? v2_array(spec, append_extent)
                                         : v3_array(spec, append_extent);
}

void
write_array_metadata(storage::Store& store,
                     const ArraySpec& spec,
                     uint64_t append_extent)
{
    const char* name = spec.version == ZarrVersion_2 ? ".zarray" : "zarr.json";
    store.put_atomic(join_key(spec.key, name),
                     pretty(array_document(spec, append_extent)));
}

json
ome_multiscales_entry(const std::string& name,
                      const std::vector<DimensionSpec>& dims,
                      const std::vector<OmeDataset>& datasets,
                      ZarrVersion version,
                      const std::vector<size_t>& storage_order)
{
    json axes = json::array();
    for (const auto& dim : in_storage_order(dims, storage_order)) {
        json axis = { { "name", dim.name }, { "type", axis_type(dim.type) } };
        if (!dim.unit.empty()) {
            axis["unit"] = dim.unit;
        }
        axes.push_back(std::move(axis));
    }
    json sets = json::array();
    for (const auto& ds : datasets) {
        sets.push_back(
          { { "path", ds.path },
            { "coordinateTransformations",
              json::array({ { { "type", "scale" },
                            { "scale", in_storage_order(ds.scale, storage_order) } } }) } });
    }
    json entry = json::object();
    if (version == ZarrVersion_2) {
        entry["version"] = "0.4";
    }
    entry["name"] = name;
    entry["axes"] = std::move(axes);
    entry["datasets"] = std::move(sets);
    return entry;
}

json
ome_group_attributes(const json& multiscales_entry, ZarrVersion version)
{
    if (version == ZarrVersion_2) {
        return { { "multiscales", json::array({ multiscales_entry }) } };
    }
    return { { "ome",
               { { "version", "0.5" },
                 { "multiscales", json::array({ multiscales_entry }) } } } };
}

void
update_group(storage::Store& store,
             const std::string& group_key,
             ZarrVersion version,
             const json& attributes)
{
    if (version == ZarrVersion_2) {
        const std::string zgroup = join_key(group_key, ".zgroup");
        if (!store.exists(zgroup)) {
            store.put_atomic(zgroup, pretty(json{ { "zarr_format", 2 } }));
        }
        if (attributes.empty()) {
            return;
        }
        const std::string zattrs = join_key(group_key, ".zattrs");
        json merged = json::object();
        if (auto existing = store.get(zattrs)) {
            json parsed = json::parse(*existing, nullptr, false);
            if (parsed.is_object()) {
                merged = std::move(parsed);
            }
        }
        merged.update(attributes);
        store.put_atomic(zattrs, pretty(merged));
        return;
    }

    const std::string key = join_key(group_key, "zarr.json");
    json doc;
    if (auto existing = store.get(key)) {
        json parsed = json::parse(*existing, nullptr, false);
        if (parsed.is_object() && parsed.value("node_type", "") == "group") {
            doc = std::move(parsed);
        } else if (parsed.is_object() && parsed.value("node_type", "") == "array") {
            fail(ZarrStatusCode_WillNotOverwrite,
                 "'",
                 store.describe(key),
                 "' is an array, not a group; use overwrite to replace it");
        }
    }
    if (doc.is_null()) {
        doc = json{ { "zarr_format", 3 },
                    { "node_type", "group" },
                    { "attributes", json::object() },
                    { "consolidated_metadata", nullptr } };
    } else if (attributes.empty()) {
        return;
    }
    if (!doc.contains("attributes") || !doc["attributes"].is_object()) {
        doc["attributes"] = json::object();
    }
    doc["attributes"].update(attributes);
    store.put_atomic(key, pretty(doc));
}

} // namespace zarr
