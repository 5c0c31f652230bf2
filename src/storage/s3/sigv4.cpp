#include "sigv4.hh"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <map>
#include <stdexcept>

namespace zarr::storage::s3 {

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string
to_hex(const unsigned char* bytes, size_t n)
{
    std::string out(2 * n, '\0');
    for (size_t i = 0; i < n; ++i) {
        out[2 * i] = kHex[bytes[i] >> 4];
        out[2 * i + 1] = kHex[bytes[i] & 0xF];
    }
    return out;
}

using Digest = std::array<unsigned char, 32>;

Digest
hmac_sha256(std::string_view key, std::string_view message)
{
    Digest out{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             out.data(), &len) == nullptr ||
        len != out.size()) {
        throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
    }
    return out;
}

std::string_view
view(const Digest& d)
{
    return { reinterpret_cast<const char*>(d.data()), d.size() };
}

/// Header value as SigV4 wants it: outer whitespace trimmed, inner runs of
/// spaces collapsed to one.
std::string
trim_value(std::string_view v)
{
    std::string out;
    bool space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out.push_back(' ');
            space = false;
        }
        out.push_back(c);
    }
    return out;
}

/// Lower-cased names mapped to their (trimmed, comma-joined) values, sorted.
std::map<std::string, std::string>
canonical_headers(const Pairs& headers)
{
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : headers) {
        auto& slot = out[ascii_lower(name)];
        if (!slot.empty()) {
            slot.push_back(',');
        }
        slot += trim_value(value);
    }
    return out;
}

std::string
signed_header_names(const std::map<std::string, std::string>& headers)
{
    std::string out;
    for (const auto& [name, value] : headers) {
        if (!out.empty()) {
            out.push_back(';');
        }
        out += name;
    }
    return out;
}

std::string
scope(std::string_view amz_date, std::string_view region, std::string_view service)
{
    return std::string(amz_date.substr(0, 8)) + "/" + std::string(region) + "/" +
           std::string(service) + "/aws4_request";
}

} // namespace

namespace {

/// `md` of `n` bytes; `len` receives the digest's size.
void
digest(const EVP_MD* md, const char* name, const void* data, size_t n,
       unsigned char* out, unsigned int* len)
{
    if (EVP_Digest(data, n, out, len, md, nullptr) != 1) {
        throw std::runtime_error(std::string(name) + " failed (OpenSSL)");
    }
}

} // namespace

std::string
ascii_lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string
sha256_hex(const void* data, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    digest(EVP_sha256(), "SHA-256", data, n, md, &len);
    return to_hex(md, len);
}

std::string
md5_base64(const void* data, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    digest(EVP_md5(), "MD5", data, n, md, &len);
    std::string out(4 * ((len + 2) / 3) + 1, '\0');
    const int w = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), md,
                                  static_cast<int>(len));
    out.resize(static_cast<size_t>(w));
    return out;
}

std::string
uri_encode(std::string_view s, bool encode_slash)
{
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        const bool unreserved = std::isalnum(c) || c == '-' || c == '_' || c == '.' ||
                                c == '~' || (c == '/' && !encode_slash);
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(static_cast<char>(std::toupper(kHex[c >> 4])));
            out.push_back(static_cast<char>(std::toupper(kHex[c & 0xF])));
        }
    }
    return out;
}

std::string
canonical_query(const Pairs& query)
{
    Pairs encoded;
    encoded.reserve(query.size());
    for (const auto& [name, value] : query) {
        encoded.emplace_back(uri_encode(name, true), uri_encode(value, true));
    }
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [name, value] : encoded) {
        if (!out.empty()) {
            out.push_back('&');
        }
        out += name;
        out.push_back('=');
        out += value;
    }
    return out;
}

std::string
canonical_request(const RequestToSign& request)
{
    const auto headers = canonical_headers(request.headers);
    std::string out = request.method + "\n" +
                      (request.canonical_uri.empty() ? "/" : request.canonical_uri) +
                      "\n" + canonical_query(request.query) + "\n";
    for (const auto& [name, value] : headers) {
        out += name + ":" + value + "\n";
    }
    out += "\n" + signed_header_names(headers) + "\n" + request.payload_sha256;
    return out;
}

std::string
string_to_sign(const RequestToSign& request, std::string_view amz_date,
               std::string_view region, std::string_view service)
{
    const std::string creq = canonical_request(request);
    return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" +
           scope(amz_date, region, service) + "\n" + sha256_hex(creq.data(), creq.size());
}

std::string
authorization(const RequestToSign& request, const Credentials& credentials,
              std::string_view amz_date, std::string_view region,
              std::string_view service)
{
    const Digest k_date =
      hmac_sha256("AWS4" + credentials.secret_access_key, amz_date.substr(0, 8));
    const Digest k_region = hmac_sha256(view(k_date), region);
    const Digest k_service = hmac_sha256(view(k_region), service);
    const Digest k_signing = hmac_sha256(view(k_service), "aws4_request");
    const Digest signature =
      hmac_sha256(view(k_signing), string_to_sign(request, amz_date, region, service));
    return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" +
           scope(amz_date, region, service) +
           ", SignedHeaders=" + signed_header_names(canonical_headers(request.headers)) +
           ", Signature=" + to_hex(signature.data(), signature.size());
}

std::string
amz_date_now()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &utc);
    return buf;
}

} // namespace zarr::storage::s3
