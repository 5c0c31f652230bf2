#include "client.hh"

#include "../../util/error.hh"
#include "../../util/log.hh"

#include <curl/curl.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <random>
#include <thread>

namespace zarr::storage::s3 {

namespace {

void
global_init()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fail(ZarrStatusCode_InternalError, "libcurl failed to initialise");
        }
    });
}

size_t
on_body(char* data, size_t size, size_t count, void* user)
{
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

size_t
on_header(char* data, size_t size, size_t count, void* user)
{
    const size_t n = size * count;
    std::string_view line(data, n);
    constexpr std::string_view name = "etag:";
    if (line.size() > name.size()) {
        if (ascii_lower(line.substr(0, name.size())) == name) {
            std::string_view v = line.substr(name.size());
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
                v.remove_prefix(1);
            }
            while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
                v.remove_suffix(1);
            }
            *static_cast<std::string*>(user) = std::string(v);
        }
    }
    return n;
}

bool
transient_curl_error(CURLcode rc)
{
    switch (rc) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

bool
transient_status(const Response& r)
{
    if (r.status >= 500 || r.status == 429) {
        return true;
    }
    const std::string code = r.status == 400 ? r.error_code() : std::string();
    return code == "RequestTimeout" || code == "SlowDown";
}

} // namespace

std::string
Response::error_code() const
{
    pugi::xml_document doc;
    if (body.empty() || !doc.load_buffer(body.data(), body.size())) {
        return {};
    }
    return doc.child("Error").child_value("Code");
}

std::string
Response::describe_error() const
{
    std::string out = cat("HTTP ", status);
    pugi::xml_document doc;
    if (!body.empty() && doc.load_buffer(body.data(), body.size())) {
        const auto error = doc.child("Error");
        const std::string code = error.child_value("Code");
        const std::string message = error.child_value("Message");
        if (!code.empty()) {
            out += " " + code;
        }
        if (!message.empty()) {
            out += ": " + message;
        }
    }
    return out;
}

ParsedEndpoint
parse_endpoint(const std::string& endpoint)
{
    std::string rest = endpoint;
    std::string scheme = "https";
    if (const auto p = rest.find("://"); p != std::string::npos) {
        scheme = ascii_lower(rest.substr(0, p));
        rest = rest.substr(p + 3);
    }
    while (!rest.empty() && rest.back() == '/') {
        rest.pop_back();
    }
    const auto bad = [&](const char* why) {
        fail(ZarrStatusCode_InvalidSettings, "s3_settings.endpoint '", endpoint, "' ", why);
    };
    if (scheme != "http" && scheme != "https") {
        bad("must use http:// or https:// (or no scheme, meaning https)");
    }
    if (rest.empty()) {
        bad("has no host");
    }
    for (unsigned char c : rest) {
        if (c == '/' || c == '?' || c == '#' || c == '@' || std::isspace(c) ||
            std::iscntrl(c)) {
            bad("must be scheme://host[:port] only, with no path, query or user");
        }
    }
    const auto colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find(']') == std::string::npos) {
        const std::string port = rest.substr(colon + 1);
        if (port.empty() || port.size() > 5 ||
            !std::all_of(port.begin(), port.end(),
                         [](unsigned char c) { return std::isdigit(c); }) ||
            std::stoul(port) == 0 || std::stoul(port) > 65535) {
            bad("has an invalid port");
        }
    }
    return { scheme + "://" + rest, rest };
}

struct Client::Handle
{
    CURL* curl = nullptr;
    ~Handle()
    {
        if (curl) {
            curl_easy_cleanup(curl);
        }
    }
};

Client::Client(ClientConfig config)
  : config_(std::move(config))
  , endpoint_(parse_endpoint(config_.endpoint))
{
    if (config_.virtual_host) {
        // The bucket becomes the first label of the host, in the URL and in
        // the signed Host header alike.
        const auto scheme_end = endpoint_.base_url.find("://") + 3;
        endpoint_.host = config_.bucket + "." + endpoint_.host;
        endpoint_.base_url.insert(scheme_end, config_.bucket + ".");
    }
    global_init();
}

Client::~Client() = default;

std::unique_ptr<Client::Handle>
Client::acquire()
{
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto h = std::move(idle_.back());
            idle_.pop_back();
            return h;
        }
    }
    auto h = std::make_unique<Handle>();
    h->curl = curl_easy_init();
    if (h->curl == nullptr) {
        fail(ZarrStatusCode_OutOfMemory, "libcurl could not create a handle");
    }
    return h;
}

void
Client::release(std::unique_ptr<Handle> handle)
{
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(handle));
}

std::string
Client::describe(const std::string& key) const
{
    return "s3://" + config_.bucket + (key.empty() ? "" : "/" + key);
}

Client::Prepared
Client::prepare(const Request& request) const
{
    Prepared p;
    const std::string key = request.key.empty() ? "" : "/" + uri_encode(request.key, false);
    if (config_.virtual_host) {
        p.path = key.empty() ? "/" : key; // the bucket is in the host name
    } else {
        p.path = "/" + uri_encode(config_.bucket, true) + key;
    }
    // The query as sent: like the canonical one, but a name without a value
    // goes bare ("?uploads"), as S3 documents it.
    std::string query = canonical_query(request.query);
    for (size_t at = query.find('='); at != std::string::npos; at = query.find('=', at)) {
        if (at + 1 == query.size() || query[at + 1] == '&') {
            query.erase(at, 1);
        } else {
            ++at;
        }
    }
    p.url = endpoint_.base_url + p.path + (query.empty() ? "" : "?" + query);
    p.payload_hash =
      sha256_hex(request.body ? request.body : reinterpret_cast<const uint8_t*>(""),
                 request.body_size);
    p.has_type =
      std::any_of(request.headers.begin(), request.headers.end(),
                  [](const auto& h) { return ascii_lower(h.first) == "content-type"; });
    return p;
}

CURLcode
Client::attempt(const Request& request, const Prepared& p, Response& response)
{
    const Credentials credentials = config_.credentials->get();
    const std::string amz_date = amz_date_now();
    RequestToSign to_sign{ request.method, p.path, request.query, request.headers,
                           p.payload_hash };
    to_sign.headers.emplace_back("host", endpoint_.host);
    to_sign.headers.emplace_back("x-amz-date", amz_date);
    to_sign.headers.emplace_back("x-amz-content-sha256", p.payload_hash);
    if (!credentials.session_token.empty()) {
        to_sign.headers.emplace_back("x-amz-security-token", credentials.session_token);
    }
    const std::string auth =
      authorization(to_sign, credentials, amz_date, config_.region, "s3");

    curl_slist* headers = nullptr;
    for (const auto& [name, value] : to_sign.headers) {
        headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    headers = curl_slist_append(headers, ("Authorization: " + auth).c_str());
    headers = curl_slist_append(headers, "Expect:");
    if (!p.has_type) {
        headers = curl_slist_append(headers, "Content-Type:"); // no curl default
    }

    auto handle = acquire();
    CURL* c = handle->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, p.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, config_.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, config_.stall_timeout_s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.etag);
    if (request.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (request.method == "GET") {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body_size));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                         request.body ? reinterpret_cast<const char*>(request.body) : "");
    }
    const CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
        release(std::move(handle));
    }
    // Otherwise the connection may be left in any state: the handle goes
    // with it.
    return rc;
}

Response
Client::send(const Request& request)
{
    const Prepared prepared = prepare(request);
    const int max_attempts =
      std::max(1, request.max_attempts > 0 ? request.max_attempts : config_.max_attempts);

    thread_local std::mt19937 rng{ std::random_device{}() };
    std::string last_failure;
    auto backoff = config_.first_backoff;
    Response response;
    for (int n = 1; n <= max_attempts; ++n) {
        if (n > 1) {
            // Full jitter: anywhere up to the current backoff.
            std::uniform_int_distribution<long> d(backoff.count() / 2, backoff.count());
            std::this_thread::sleep_for(std::chrono::milliseconds(d(rng)));
            backoff = std::min(config_.max_backoff, backoff * 2);
        }
        response = Response{};
        response.attempts = n;
        const CURLcode rc = attempt(request, prepared, response);
        if (rc == CURLE_OK) {
            if (!transient_status(response)) {
                return response;
            }
            last_failure = response.describe_error();
        } else {
            last_failure = curl_easy_strerror(rc);
            if (!transient_curl_error(rc)) {
                break;
            }
        }
        if (n < max_attempts) {
            log::debug(request.method, " ", describe(request.key), " failed (",
                       last_failure, "), attempt ", n, " of ", max_attempts,
                       "; retrying");
        }
    }
    if (response.status != 0) {
        return response; // a transient status that never went away
    }
    fail(ZarrStatusCode_IOError, request.method, " ", describe(request.key), " at ",
         endpoint_.base_url, " failed after ", response.attempts, " attempt(s): ",
         last_failure);
}

} // namespace zarr::storage::s3
