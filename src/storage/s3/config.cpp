#include "config.hh"

#include "client.hh"

#include "../../util/error.hh"

namespace zarr::storage {

std::string
S3StoreConfig::location() const
{
    return cat("s3://", bucket, "/", prefix);
}

std::string
S3StoreConfig::name() const
{
    return prefix.substr(prefix.rfind('/') + 1);
}

} // namespace zarr::storage

namespace zarr::storage::s3 {
namespace {

// The store's own keys ("0/c/0/0/0", "acquire.json") go under the prefix;
// S3 keys are at most 1024 bytes.
constexpr size_t kMaxPrefixBytes = 900;

bool
lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

} // namespace

void
check_endpoint(const std::string& endpoint)
{
    parse_endpoint(endpoint);
}

std::string
bucket_name_problem(std::string_view bucket)
{
    bool ok = bucket.size() >= 3 && bucket.size() <= 63 && lower_alnum(bucket.front()) &&
              lower_alnum(bucket.back());
    for (char c : bucket) {
        ok = ok && (lower_alnum(c) || c == '.' || c == '-' || c == '_');
    }
    return ok ? ""
              : "a bucket name is 3 to 63 lower-case letters, digits, '.', "
                "'-' or '_', starting and ending with a letter or digit";
}

std::string
virtual_host_problem(std::string_view bucket, const std::string& endpoint)
{
    // One DNS label: a '.' would add labels that a TLS wildcard certificate
    // ("*.s3.example.com") does not cover, and '_' is not allowed in host
    // names at all.
    for (char c : bucket) {
        if (!(lower_alnum(c) || c == '-')) {
            return cat("s3_settings.bucket_name '", bucket,
                       "' cannot go in a host name: with virtual-host addressing a bucket "
                       "name is lower-case letters, digits and '-' only (use path-style "
                       "addressing for this bucket)");
        }
    }
    std::string host = parse_endpoint(endpoint).host;
    if (const auto colon = host.rfind(':');
        colon != std::string::npos && host.find(']') == std::string::npos) {
        host.resize(colon);
    }
    const bool ipv4 = !host.empty() && host.find_first_not_of("0123456789.") == std::string::npos;
    if (ipv4 || (!host.empty() && host.front() == '[')) {
        return cat("s3_settings.endpoint '", endpoint,
                   "' is an IP address: virtual-host addressing puts the bucket in front "
                   "of a host name (use the server's name, or path-style addressing)");
    }
    return "";
}

std::string
region_problem(std::string_view region)
{
    for (char c : region) {
        if (!(lower_alnum(c) || c == '-')) {
            return "a region is lower-case letters, digits and '-' (e.g. us-east-1)";
        }
    }
    return "";
}

KeyPrefix
key_prefix(std::string_view path)
{
    KeyPrefix out;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        const std::string_view segment = path.substr(start, end - start);
        start = end + 1;
        if (segment.empty()) {
            continue;
        }
        if (segment == "." || segment == "..") {
            out.problem = PrefixProblem::dot_segment;
            return out;
        }
        for (unsigned char c : segment) {
            if (c < 0x20 || c == 0x7F || c == '\\') {
                out.problem = PrefixProblem::control_character;
                return out;
            }
        }
        out.prefix += (out.prefix.empty() ? "" : "/");
        out.prefix += segment;
    }
    if (out.prefix.empty()) {
        out.problem = PrefixProblem::empty;
    } else if (out.prefix.size() > kMaxPrefixBytes) {
        out.problem = PrefixProblem::too_long;
    }
    return out;
}

} // namespace zarr::storage::s3
