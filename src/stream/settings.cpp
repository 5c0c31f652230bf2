#include "settings.hh"

#include "settings_checks.hh"

#include "../codec/registry.hh"
#include "../util/error.hh"
#include "../util/log.hh"
#include "../util/raw_enum.hh"
#include "../zarr/geometry.hh"
#include "../zarr/pyramid.hh"
#include "../zarr/storage_order.hh"

#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace zarr {
namespace {

// Limits that turn a typo into an error instead of a hang or an exhausted
// machine.
constexpr uint64_t kMaxChunkBytes = uint64_t{ 1 } << 30;   // per inner chunk
constexpr uint64_t kMaxChunksPerSlab = uint64_t{ 1 } << 20; // open at once
constexpr uint64_t kMaxChunksPerShard = uint64_t{ 1 } << 20;
constexpr unsigned kMaxThreads = 1024;

} // namespace

namespace checks {

void
require_utf8(const std::string& field, const std::string& value)
{
    const size_t bad = invalid_utf8_at(value);
    if (bad != std::string::npos) {
        throw Error(ZarrStatusCode_InvalidSettings,
                    cat(field, " is '", escape_invalid_utf8(value),
                        "': not valid UTF-8 (byte ", bad, "), and it goes into the metadata"));
    }
}

/// The non-empty '/'-separated segments of a key.
std::vector<std::string>
key_segments(const std::string& key)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= key.size()) {
        size_t end = key.find('/', start);
        if (end == std::string::npos) {
            end = key.size();
        }
        if (end > start) {
            out.push_back(key.substr(start, end - start));
        }
        start = end + 1;
    }
    return out;
}

void
invalid(const std::string& message)
{
    throw Error(ZarrStatusCode_InvalidSettings, message);
}

std::string
quoted(const char* s)
{
    return s == nullptr ? std::string("NULL") : cat("'", s, "'");
}

} // namespace checks

namespace {

using namespace checks;

uint64_t
saturating_mul(uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) {
        return UINT64_MAX;
    }
    return r;
}

uint64_t
physical_memory_bytes()
{
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) {
        return UINT64_MAX;
    }
    return saturating_mul(static_cast<uint64_t>(pages),
                          static_cast<uint64_t>(page));
}

std::string
human_bytes(uint64_t n)
{
    const char* units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        ++u;
    }
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
    return buf;
}

storage::FilesystemStoreConfig
filesystem_config_from(const ZarrStreamSettings& s)
{
    if (s.store_path == nullptr) {
        invalid("store_path is NULL: a directory path is required");
    }
    std::string path = s.store_path;
    if (path.rfind("file://", 0) == 0) {
        path = path.substr(7);
    }
    if (path.empty()) {
        invalid(cat("store_path ", quoted(s.store_path),
                    " is empty: a directory path is required"));
    }
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(path), ec);
    if (ec) {
        invalid(cat("store_path ", quoted(s.store_path), ": ", ec.message()));
    }
    abs = abs.lexically_normal();
    std::string root = abs.string();
    while (root.size() > 1 && root.back() == '/') {
        root.pop_back();
    }
    return { root };
}

/// With s3_settings, store_path is the key prefix inside the bucket:
/// "/a//b/" becomes "a/b". Empty prefixes (the bucket's root) and "." or ".."
/// segments are refused.
std::string
s3_prefix_from(const ZarrStreamSettings& s)
{
    if (s.store_path == nullptr) {
        invalid("store_path is NULL: with s3_settings it is the key prefix in the bucket");
    }
    using storage::s3::PrefixProblem;
    const storage::s3::KeyPrefix key = storage::s3::key_prefix(s.store_path);
    switch (key.problem) {
        case PrefixProblem::none:
            return key.prefix;
        case PrefixProblem::dot_segment:
            invalid(cat("store_path ", quoted(s.store_path),
                        ": '.' and '..' are not allowed in an S3 key prefix"));
        case PrefixProblem::control_character:
            invalid(cat("store_path ", quoted(s.store_path),
                        ": control characters and '\\' are not allowed in an S3 key prefix"));
        case PrefixProblem::empty:
            invalid(cat("store_path ", quoted(s.store_path),
                        " is empty: with s3_settings it is the key prefix of the store "
                        "in the bucket, and the bucket's root is not allowed"));
        case PrefixProblem::too_long:
            invalid(cat("store_path is ", key.prefix.size(),
                        " characters long: S3 keys are limited to 1024 bytes"));
    }
    throw Error(ZarrStatusCode_InternalError, "unknown storage::s3::PrefixProblem");
}

/// Whether requests name the bucket in the host name; refuses an unknown
/// style, and a bucket or endpoint that cannot be one (docs/s3.md).
bool
s3_virtual_host_from(const ZarrS3AddressingStyle& field, const storage::S3StoreConfig& config)
{
    // Read as an int: a value outside the enum must not be loaded as one.
    const int style = raw_enum(field);
    if (style == ZarrS3AddressingStyle_Path) {
        return false;
    }
    if (style != ZarrS3AddressingStyle_VirtualHost) {
        invalid(cat("s3_addressing_style is ", style,
                    ": expected ZarrS3AddressingStyle_Path (0) or _VirtualHost (1)"));
    }
    if (const auto why = storage::s3::virtual_host_problem(config.bucket, config.endpoint);
        !why.empty()) {
        invalid(cat("s3_addressing_style is virtual-host: ", why));
    }
    return true;
}

storage::S3StoreConfig
s3_config_from(const ZarrS3Settings& s3, const ZarrStreamSettings& s)
{
    storage::S3StoreConfig config;
    if (s3.endpoint == nullptr || s3.endpoint[0] == '\0') {
        invalid(cat("s3_settings.endpoint is ", quoted(s3.endpoint),
                    ": an endpoint URL such as https://s3.us-east-1.amazonaws.com is required"));
    }
    config.endpoint = s3.endpoint;
    storage::s3::check_endpoint(config.endpoint); // throws naming the endpoint

    config.bucket = s3.bucket_name ? s3.bucket_name : "";
    if (const auto why = storage::s3::bucket_name_problem(config.bucket); !why.empty()) {
        invalid(cat("s3_settings.bucket_name is ", quoted(s3.bucket_name), ": ", why));
    }
    config.region = s3.region && s3.region[0] ? s3.region : storage::s3::kDefaultRegion;
    if (const auto why = storage::s3::region_problem(config.region); !why.empty()) {
        invalid(cat("s3_settings.region is ", quoted(s3.region), ": ", why));
    }
    config.prefix = s3_prefix_from(s);
    config.virtual_host = s3_virtual_host_from(s.s3_addressing_style, config);
    return config;
}

} // namespace

DimensionSpec
checks::check_dimension(const ZarrDimensionProperties& d,
                        const std::string& field,
                        bool append_dim)
{
    DimensionSpec spec;
    if (d.name == nullptr || d.name[0] == '\0') {
        invalid(cat(field, ".name is ", quoted(d.name),
                    ": every dimension needs a non-empty name"));
    }
    spec.name = d.name;
    if (static_cast<unsigned>(raw_enum(d.type)) >= ZarrDimensionTypeCount) {
        invalid(cat(field, ".type is ", raw_enum(d.type),
                    ": must be a ZarrDimensionType (0..",
                    ZarrDimensionTypeCount - 1, ")"));
    }
    spec.type = d.type;
    if (d.chunk_size_px == 0) {
        invalid(cat(field, ".chunk_size_px is 0 (dimension '", spec.name,
                    "'): must be > 0"));
    }
    if (!append_dim && d.array_size_px == 0) {
        invalid(cat(field, ".array_size_px is 0 (dimension '", spec.name,
                    "'): only the first (append) dimension may be unbounded"));
    }
    if (!std::isfinite(d.scale) || d.scale < 0) {
        invalid(cat(field, ".scale is ", d.scale, " (dimension '", spec.name,
                    "'): must be a finite number > 0 (0 means 1.0)"));
    }
    spec.size = d.array_size_px;
    spec.chunk = d.chunk_size_px;
    spec.shard_chunks = d.shard_size_chunks == 0 ? 1 : d.shard_size_chunks;
    spec.unit = d.unit == nullptr ? "" : d.unit;
    require_utf8(field + ".name", spec.name);
    require_utf8(field + ".unit", spec.unit);
    spec.scale = d.scale == 0 ? 1.0 : d.scale;
    return spec;
}

void
checks::check_sizes(const ArraySpec& array, const std::string& field_prefix)
{
    const std::string field = field_prefix + "dimensions[]";
    const size_t bpe = bytes_of(array.dtype);
    uint64_t chunk_elems = 1;
    uint64_t per_slab = 1;
    uint64_t per_shard = 1;
    std::string chunk_shape;
    for (size_t d = 0; d < array.dims.size(); ++d) {
        const auto& dim = array.dims[d];
        chunk_elems = saturating_mul(chunk_elems, dim.chunk);
        per_shard = saturating_mul(per_shard, dim.shard_chunks);
        if (d > 0) {
            per_slab = saturating_mul(per_slab, ceil_div(dim.size, dim.chunk));
        }
        if (d > 0) {
            chunk_shape += 'x';
        }
        chunk_shape += std::to_string(dim.chunk);
    }
    const uint64_t chunk_bytes = saturating_mul(chunk_elems, bpe);
    if (chunk_bytes > kMaxChunkBytes) {
        invalid(cat(field, ".chunk_size_px: a chunk of ", chunk_shape, " ",
                    dtype_name(array.dtype), " takes ", human_bytes(chunk_bytes),
                    ", more than the ", human_bytes(kMaxChunkBytes),
                    " limit; use smaller chunks"));
    }
    if (per_slab > kMaxChunksPerSlab) {
        invalid(cat(field, ".chunk_size_px: ", per_slab,
                    " chunks (", chunk_shape,
                    ") would be open at once along the append dimension, more "
                    "than the limit of ",
                    kMaxChunksPerSlab, "; use larger chunks"));
    }
    if (array.version == ZarrVersion_3 && per_shard > kMaxChunksPerShard) {
        invalid(cat(field, ".shard_size_chunks: ", per_shard,
                    " chunks per shard, more than the limit of ",
                    kMaxChunksPerShard));
    }
    const uint64_t slab_bytes = saturating_mul(per_slab, chunk_bytes);
    const uint64_t budget = physical_memory_bytes() / 2;
    if (slab_bytes > budget) {
        invalid(cat(field, ".chunk_size_px: one row of chunks along the "
                    "append dimension (", per_slab, " chunks of ", chunk_shape,
                    ") needs ", human_bytes(slab_bytes),
                    " of memory, more than half of this machine's ",
                    human_bytes(physical_memory_bytes()),
                    "; use a smaller chunk_size_px on dimension '",
                    array.dims[0].name, "' or smaller chunks"));
    }
}

std::string
normalize_output_key(const std::string& key)
{
    std::string out;
    for (const std::string& segment : key_segments(key)) {
        if (segment == "." || segment == "..") {
            invalid(cat("output_key '", key, "': segment '", segment,
                        "' is not allowed"));
        }
        if (segment.rfind("__", 0) == 0) {
            invalid(cat("output_key '", key, "': segment '", segment,
                        "' starts with '__', which Zarr reserves"));
        }
        if (segment == "zarr.json" || segment == ".zarray" ||
            segment == ".zgroup" || segment == ".zattrs") {
            invalid(cat("output_key '", key, "': segment '", segment,
                        "' is a Zarr metadata name"));
        }
        if (segment.find('\\') != std::string::npos ||
            segment.find('\0') != std::string::npos) {
            invalid(cat("output_key '", key, "': segment '", segment,
                        "' contains a forbidden character"));
        }
        if (!out.empty()) {
            out += '/';
        }
        out += segment;
    }
    return out;
}

namespace {

/// The version the settings ask for (0: v3).
ZarrVersion
checked_version(const ZarrStreamSettings& s)
{
    if (raw_enum(s.version) != 0 && raw_enum(s.version) != ZarrVersion_2 &&
        raw_enum(s.version) != ZarrVersion_3) {
        invalid(cat("version is ", raw_enum(s.version),
                    ": must be ZarrVersion_2 (2) or ZarrVersion_3 (3)"));
    }
    return raw_enum(s.version) == 0 ? ZarrVersion_3 : s.version;
}

void
check_downsampling(const std::string& field, const ZarrDownsamplingMethod& method)
{
    if (static_cast<unsigned>(raw_enum(method)) >= ZarrDownsamplingMethodCount) {
        invalid(cat(field, " is ", raw_enum(method),
                    ": must be a ZarrDownsamplingMethod (0..",
                    ZarrDownsamplingMethodCount - 1, ")"));
    }
}

/// The seed-era single array (docs/format.md, Hierarchy).
ArrayPlan
seed_array(const ZarrStreamSettings& s, ZarrVersion version)
{
    check_downsampling("downsampling_method", s.downsampling_method);
    ArrayPlan plan;
    ArraySpec array = array_spec_from("", s.dimensions, s.dimension_count, 3,
                                      s.data_type, s.compression_settings, version);
    array.storage_order =
      storage_order_from(s.storage_dimension_order, array.dims, "storage_dimension_order");
    plan.output_key = normalize_output_key(s.output_key == nullptr ? "" : s.output_key);
    require_utf8("output_key", plan.output_key);
    plan.field = cat("output_key '", plan.output_key, "'");
    plan.multiscale = s.multiscale;
    plan.downsampling = s.downsampling_method;
    plan.image = plan.output_key.empty() || plan.multiscale;
    array.key = plan.image ? join_key(plan.output_key, "0") : plan.output_key;
    plan.levels = plan.multiscale
                    ? pyramid_levels(array, plan.output_key, { .max_levels = s.max_levels })
                    : std::vector<ArraySpec>{ array };
    return plan;
}

/// Seed-era fields set beside `arrays`/`hcs_settings`: their names.
std::string
seed_fields_set(const ZarrStreamSettings& s)
{
    std::string names;
    const auto add = [&names](bool set, const char* name) {
        if (set) {
            names += names.empty() ? name : cat(", ", name);
        }
    };
    add(s.dimensions != nullptr || s.dimension_count != 0, "dimensions");
    add(s.compression_settings != nullptr, "compression_settings");
    add(s.multiscale, "multiscale");
    add(raw_enum(s.data_type) != 0, "data_type");
    add(raw_enum(s.downsampling_method) != 0, "downsampling_method");
    add(s.output_key != nullptr && s.output_key[0] != '\0', "output_key");
    add(s.max_levels != 0, "max_levels");
    add(s.storage_dimension_order != nullptr, "storage_dimension_order");
    return names;
}

/// max_threads, 0 meaning one per core.
unsigned
threads_from(const ZarrStreamSettings& s)
{
    if (s.max_threads > kMaxThreads) {
        invalid(cat("max_threads is ", s.max_threads, ": at most ", kMaxThreads,
                    " (0 means one per CPU core)"));
    }
    return s.max_threads != 0 ? s.max_threads
                              : std::max(1u, std::thread::hardware_concurrency());
}

/// custom_metadata as the root group's attributes (an empty object if unset).
json
root_attributes_from(const char* custom_metadata)
{
    if (custom_metadata == nullptr || custom_metadata[0] == '\0') {
        return json::object();
    }
    json parsed = json::parse(custom_metadata, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        invalid(cat("custom_metadata '", custom_metadata, "' is not a JSON object"));
    }
    if (parsed.contains("ome")) {
        invalid("custom_metadata has the key 'ome', which OME-NGFF "
                "reserves for the image metadata; use another key");
    }
    return parsed;
}

} // namespace

StreamPlan
plan_stream(const ZarrStreamSettings* settings)
{
    if (settings == nullptr) {
        throw Error(ZarrStatusCode_InvalidArgument, "settings is NULL");
    }
    const ZarrStreamSettings& s = *settings;
    StreamPlan plan;

    if (s.s3_settings != nullptr) {
        plan.store = s3_config_from(*s.s3_settings, s);
    } else {
        plan.store = filesystem_config_from(s);
    }
    plan.version = checked_version(s);
    plan.from_arrays = s.array_count != 0 || s.arrays != nullptr || s.hcs_settings != nullptr;
    if (plan.from_arrays) {
        if (const std::string seed = seed_fields_set(s); !seed.empty()) {
            invalid(cat("arrays/hcs_settings and the seed-era fields (", seed,
                        ") are both set: a stream is built from one or the other"));
        }
        plan_arrays(s, plan);
    } else {
        plan.arrays.push_back(seed_array(s, plan.version));
    }
    if (const auto* s3 = std::get_if<storage::S3StoreConfig>(&plan.store)) {
        require_utf8("store_path (the S3 key prefix)", s3->prefix);
    } else {
        for (const auto& array : plan.arrays) {
            if (array.output_key.empty()) {
                // The store directory's name becomes the image's OME-NGFF name.
                require_utf8("the store directory name", storage::name(plan.store));
            }
        }
    }
    plan.overwrite = s.overwrite;
    plan.max_threads = threads_from(s);
    plan.root_attributes = root_attributes_from(s.custom_metadata);

    for (const auto& array : plan.arrays) {
        // NGFF wants 2-5 axes ordered time, channel, space; real acquisitions
        // break that, so we write what was asked and say so.
        if (array.levels.front().dims.size() > 5) {
            log::warning("OME-NGFF allows at most 5 axes; writing ",
                         array.levels.front().dims.size(), " anyway at '",
                         array.output_key, "'");
        }
    }
    return plan;
}

} // namespace zarr
