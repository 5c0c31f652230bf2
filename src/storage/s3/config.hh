// What an S3 store is opened from, and the rules its names follow. Callers
// build the config from what their users give; the rules say what S3 takes,
// and the caller words the refusal in its users' terms.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zarr::storage {

struct S3StoreConfig
{
    std::string endpoint;            // "host[:port]" or "http(s)://host[:port]"
    std::string bucket;
    std::string region;              // empty: s3::kDefaultRegion
    std::string prefix;              // keys go under "<prefix>/"; see s3::key_prefix
    size_t part_size = 8ull << 20;   // multipart part size (at least 5 MiB)
    // Requests name the bucket in the host name ("<bucket>.<host>/<key>")
    // instead of the path ("<host>/<bucket>/<key>"); see docs/s3.md.
    bool virtual_host = false;

    /// "s3://bucket/prefix", for messages.
    std::string location() const;
    /// The prefix's last segment ("run.zarr" for "exp/run.zarr").
    std::string name() const;
};

} // namespace zarr::storage

namespace zarr::storage::s3 {

inline constexpr const char* kDefaultRegion = "us-east-1";

/// Throws zarr::Error(InvalidSettings) naming the endpoint (as
/// s3_settings.endpoint) when it is not "host[:port]" or
/// "http(s)://host[:port]".
void
check_endpoint(const std::string& endpoint);

/// Why `bucket` is not a bucket name S3 takes, or "" when it is one.
std::string
bucket_name_problem(std::string_view bucket);

/// Why requests to `bucket` at `endpoint` cannot name the bucket in the
/// host name (a bucket that is not one DNS label, an endpoint that is an IP
/// address), naming the field and its value; "" when they can.
std::string
virtual_host_problem(std::string_view bucket, const std::string& endpoint);

/// Why `region` is not a region name, or "" when it is one.
std::string
region_problem(std::string_view region);

/// What keeps a path from being a store's key prefix.
enum class PrefixProblem
{
    none,
    dot_segment,       // a "." or ".." segment
    control_character, // a control character or '\' in a segment
    empty,             // no segment at all: the bucket's root
    too_long,          // leaves too little of S3's 1024-byte keys for the store's keys
};

struct KeyPrefix
{
    std::string prefix; // the segments joined by '/' (so far, on a problem)
    PrefixProblem problem = PrefixProblem::none;
};

/// A store's key prefix from a '/'-separated path: empty segments are
/// dropped, so "/a//b/" becomes "a/b". The first problem found, segment by
/// segment, stops the scan.
KeyPrefix
key_prefix(std::string_view path);

} // namespace zarr::storage::s3
