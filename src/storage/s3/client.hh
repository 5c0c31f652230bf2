// A small S3 client on libcurl: requests to one bucket (path-style or
// virtual-host, see docs/s3.md), signed
// with SigV4, over a pool of reusable curl handles (each keeps its
// connection alive), with retries for transient failures.
#pragma once

#include "credentials.hh"
#include "sigv4.hh"

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace zarr::storage::s3 {

struct ClientConfig
{
    std::string endpoint; // as given: "host[:port]" or "http(s)://host[:port]"
    std::string bucket;
    std::string region = "us-east-1";
    // "<bucket>.<host>/<key>" instead of "<host>/<bucket>/<key>".
    bool virtual_host = false;
    // Asked before every attempt: temporary credentials change as they are
    // refreshed.
    std::shared_ptr<CredentialsProvider> credentials;
    // Per request: with the backoff below, retries span 11-21 s (jitter),
    // long enough for an object store's restart (a single SeaweedFS or MinIO
    // node is back within seconds) to cost no data.
    int max_attempts = 10;
    std::chrono::milliseconds first_backoff{ 100 }; // doubled per retry
    std::chrono::milliseconds max_backoff{ 5000 };
    long connect_timeout_ms = 5000;
    long stall_timeout_s = 30; // abort a transfer that moves no byte this long
};

struct Request
{
    std::string method = "GET";
    std::string key; // object key in the bucket; empty for the bucket itself
    Pairs query;     // decoded names and values
    Pairs headers;   // extra headers to send and sign (e.g. content-md5)
    const uint8_t* body = nullptr;
    size_t body_size = 0;
    int max_attempts = 0; // 0: the client's default
};

struct Response
{
    long status = 0;
    std::string body;
    std::string etag;
    int attempts = 0;

    bool ok() const { return status >= 200 && status < 300; }
    /// The <Code> of an S3 XML error body ("NoSuchBucket"), or "".
    std::string error_code() const;
    /// "HTTP 403 SignatureDoesNotMatch: <Message>" for messages.
    std::string describe_error() const;
};

/// Splits an endpoint into "scheme://host[:port]" (https when no scheme is
/// given) and the Host header value. Throws zarr::Error(InvalidSettings)
/// naming the endpoint when it is not a URL of that form.
struct ParsedEndpoint
{
    std::string base_url;
    std::string host;
};
ParsedEndpoint
parse_endpoint(const std::string& endpoint);

class Client
{
  public:
    explicit Client(ClientConfig config);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Sends `request`, retrying transport failures, 5xx, 429 and
    /// RequestTimeout with exponential backoff. Returns the last response
    /// (which may be an error status); throws zarr::Error(IOError) when no
    /// response came back at all.
    Response send(const Request& request);

    const std::string& bucket() const { return config_.bucket; }
    const std::string& base_url() const { return endpoint_.base_url; }
    /// Where the credentials come from, for messages.
    const std::string& credentials_source() const { return config_.credentials->source(); }
    /// "s3://bucket/key".
    std::string describe(const std::string& key) const;

  private:
    struct Handle;
    /// What every attempt at one request shares.
    struct Prepared
    {
        std::string path;         // "/bucket/key" ("/key": virtual-host), URI-encoded
        std::string url;          // with the query as sent
        std::string payload_hash; // SHA-256 of the body, hex
        bool has_type = false;    // the request sets Content-Type itself
    };
    Prepared prepare(const Request& request) const;
    /// One attempt: signs `request` now, sends it on a pooled handle and
    /// fills `response`. A handle whose transfer failed is dropped.
    CURLcode attempt(const Request& request, const Prepared& p, Response& response);
    std::unique_ptr<Handle> acquire();
    void release(std::unique_ptr<Handle> handle);

    ClientConfig config_;
    ParsedEndpoint endpoint_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Handle>> idle_;
};

} // namespace zarr::storage::s3
