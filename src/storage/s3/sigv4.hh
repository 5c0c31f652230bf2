// AWS Signature Version 4 for S3 requests (OpenSSL for SHA-256 and HMAC).
// Pure functions: no clock and no I/O, so the unit tests can check them
// against AWS's published examples and botocore's signer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zarr::storage::s3 {

struct Credentials
{
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token; // empty when none
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

/// What is signed. `canonical_uri` is the path exactly as sent (already
/// percent-encoded, see uri_encode); `query` holds decoded names and values;
/// `headers` are every header to sign (any case), including host and
/// x-amz-date.
struct RequestToSign
{
    std::string method;
    std::string canonical_uri;
    Pairs query;
    Pairs headers;
    std::string payload_sha256; // lower-case hex, or "UNSIGNED-PAYLOAD"
};

/// `s` with ASCII letters lower-cased (header names, URL schemes).
std::string
ascii_lower(std::string_view s);

/// Lower-case hex SHA-256 of `n` bytes.
std::string
sha256_hex(const void* data, size_t n);

/// Base64 of the MD5 of `n` bytes (the Content-MD5 header).
std::string
md5_base64(const void* data, size_t n);

/// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay,
/// everything else becomes %XX (upper-case hex); '/' stays unless
/// `encode_slash`.
std::string
uri_encode(std::string_view s, bool encode_slash);

/// The canonical query string: names and values encoded, sorted by name
/// then value, joined with '&'.
std::string
canonical_query(const Pairs& query);

std::string
canonical_request(const RequestToSign& request);

/// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hash of canonical request>".
std::string
string_to_sign(const RequestToSign& request, std::string_view amz_date,
               std::string_view region, std::string_view service);

/// The Authorization header value. `amz_date` is "YYYYMMDDTHHMMSSZ" and
/// must equal the request's x-amz-date header.
std::string
authorization(const RequestToSign& request, const Credentials& credentials,
              std::string_view amz_date, std::string_view region,
              std::string_view service);

/// Now, as "YYYYMMDDTHHMMSSZ" (UTC).
std::string
amz_date_now();

} // namespace zarr::storage::s3
