#include "remote_credentials.hh"

#include "../../util/error.hh"

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

namespace zarr::storage::s3 {

namespace {

// A credentials document is a few KiB; anything much larger is not one.
constexpr size_t kMaxBody = 1 << 20;

std::string
env(const char* name)
{
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

std::string
without_trailing_slashes(std::string s)
{
    while (!s.empty() && s.back() == '/') {
        s.pop_back();
    }
    return s;
}

/// A file's content without surrounding whitespace (token files end in a
/// newline). Throws IOError naming the file and the variable that set it.
std::string
read_token_file(const std::string& path, const char* variable)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (!in || !(text << in.rdbuf())) {
        fail(ZarrStatusCode_IOError, "cannot read ", variable, " '", path, "'");
    }
    std::string s = text.str();
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        fail(ZarrStatusCode_IOError, variable, " '", path, "' is empty");
    }
    return s.substr(first, s.find_last_not_of(" \t\r\n") + 1 - first);
}

struct HttpRequest
{
    const char* method = "GET";
    std::string url;
    std::vector<std::string> headers; // "Name: value"
    std::string body;
    long connect_timeout_ms = 2000;
    long timeout_ms = 10000;
};

struct HttpResponse
{
    long status = 0;
    std::string body;
};

size_t
on_body(char* data, size_t size, size_t count, void* user)
{
    auto* body = static_cast<std::string*>(user);
    if (body->size() + size * count > kMaxBody) {
        return 0; // aborts the transfer
    }
    body->append(data, size * count);
    return size * count;
}

/// One HTTP exchange, without retries or redirects. Throws IOError naming
/// the method and URL (never a header: they hold tokens) when no response
/// came back.
HttpResponse
http(const HttpRequest& request)
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) {
        fail(ZarrStatusCode_OutOfMemory, "libcurl could not create a handle");
    }
    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) {
        headers = curl_slist_append(headers, h.c_str());
    }
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers,
                                                                    curl_slist_free_all);
    HttpResponse response;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); // metadata services are never proxied
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, request.timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
    const std::string method = request.method;
    if (method == "POST" || method == "PUT") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        fail(ZarrStatusCode_IOError, method, " ", request.url, " failed: ",
             curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

std::string
form_escape(const std::string& s)
{
    std::unique_ptr<char, void (*)(void*)> out(
      curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size())), curl_free);
    return out ? std::string(out.get()) : std::string();
}

/// Temporary credentials from the JSON document the container endpoint and
/// IMDS serve: AccessKeyId, SecretAccessKey, Token, Expiration.
TimedCredentials
from_json(const std::string& body, const std::string& where)
{
    const auto doc = nlohmann::json::parse(body, nullptr, false);
    const auto text = [&](const char* name) {
        if (doc.is_object() && doc.contains(name) && doc[name].is_string()) {
            return doc[name].get<std::string>();
        }
        return std::string();
    };
    if (doc.is_discarded() || text("AccessKeyId").empty() || text("SecretAccessKey").empty()) {
        fail(ZarrStatusCode_IOError, where,
             " did not answer with a JSON object holding AccessKeyId and SecretAccessKey");
    }
    TimedCredentials out;
    out.credentials = { text("AccessKeyId"), text("SecretAccessKey"), text("Token") };
    if (const std::string expiration = text("Expiration"); !expiration.empty()) {
        out.expiration = parse_iso8601(expiration);
        if (!out.expiration) {
            fail(ZarrStatusCode_IOError, where, " gave an Expiration that is not an ISO 8601 "
                 "UTC time: '", expiration, "'");
        }
    }
    return out;
}

/// "HTTP 403" and, when the body is short text, the body (error documents
/// of the metadata services name the problem, not a secret).
std::string
describe(const HttpResponse& r)
{
    std::string out = cat("HTTP ", r.status);
    if (!r.body.empty() && r.body.size() < 512) {
        out += ": " + r.body;
    }
    return out;
}

bool
allowed_plain_http_host(const std::string& url)
{
    std::string rest = url.substr(url.find("://") + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string::npos) {
        rest = rest.substr(at + 1);
    }
    std::string host = rest;
    if (!host.empty() && host.front() == '[') {
        host = host.substr(1, host.find(']') - 1);
    } else if (const auto colon = host.rfind(':'); colon != std::string::npos) {
        host = host.substr(0, colon);
    }
    return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" ||
           host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23";
}

} // namespace

std::optional<WebIdentityConfig>
web_identity_from_environment()
{
    WebIdentityConfig c;
    c.token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
    c.role_arn = env("AWS_ROLE_ARN");
    if (c.token_file.empty() && c.role_arn.empty()) {
        return std::nullopt;
    }
    if (c.token_file.empty() || c.role_arn.empty()) {
        fail(ZarrStatusCode_InvalidSettings,
             c.token_file.empty() ? "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not"
                                  : "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    }
    c.session_name = env("AWS_ROLE_SESSION_NAME");
    if (c.session_name.empty()) {
        c.session_name = cat("acquire-zarr-", std::time(nullptr));
    }
    c.sts_endpoint = without_trailing_slashes(env("AWS_ENDPOINT_URL_STS"));
    if (c.sts_endpoint.empty()) {
        std::string region = env("AWS_REGION");
        if (region.empty()) {
            region = env("AWS_DEFAULT_REGION");
        }
        c.sts_endpoint = region.empty() ? "https://sts.amazonaws.com"
                                        : "https://sts." + region + ".amazonaws.com";
    }
    return c;
}

TimedCredentials
fetch_web_identity(const WebIdentityConfig& config)
{
    const std::string token = read_token_file(config.token_file, "AWS_WEB_IDENTITY_TOKEN_FILE");
    HttpRequest request;
    request.method = "POST";
    request.url = config.sts_endpoint + "/";
    request.headers = { "Content-Type: application/x-www-form-urlencoded",
                        "Accept: application/xml", "Expect:" };
    request.body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" +
                   form_escape(config.role_arn) +
                   "&RoleSessionName=" + form_escape(config.session_name) +
                   "&WebIdentityToken=" + form_escape(token);
    const HttpResponse r = http(request);
    const std::string where = cat("STS AssumeRoleWithWebIdentity at ", request.url);
    pugi::xml_document doc;
    const bool xml = doc.load_buffer(r.body.data(), r.body.size());
    if (r.status != 200) {
        const auto error = doc.child("ErrorResponse").child("Error");
        const std::string code = error.child_value("Code");
        fail(ZarrStatusCode_IOError, where, " refused ", config.role_arn, ": HTTP ", r.status,
             code.empty() ? "" : " " + code, code.empty() ? "" : ": ",
             error.child_value("Message"));
    }
    const auto creds = doc.child("AssumeRoleWithWebIdentityResponse")
                         .child("AssumeRoleWithWebIdentityResult")
                         .child("Credentials");
    TimedCredentials out;
    out.credentials = { creds.child_value("AccessKeyId"), creds.child_value("SecretAccessKey"),
                        creds.child_value("SessionToken") };
    out.expiration = parse_iso8601(creds.child_value("Expiration"));
    if (!xml || out.credentials.access_key_id.empty() ||
        out.credentials.secret_access_key.empty() || !out.expiration) {
        fail(ZarrStatusCode_IOError, where,
             " did not answer with Credentials (AccessKeyId, SecretAccessKey, Expiration)");
    }
    return out;
}

std::optional<ContainerConfig>
container_from_environment()
{
    ContainerConfig c;
    if (const std::string relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        !relative.empty()) {
        c.url = "http://169.254.170.2" + (relative.front() == '/' ? relative : "/" + relative);
    } else {
        c.url = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        if (c.url.empty()) {
            return std::nullopt;
        }
        const bool https = c.url.rfind("https://", 0) == 0;
        const bool plain = c.url.rfind("http://", 0) == 0;
        if (!https && !(plain && allowed_plain_http_host(c.url))) {
            fail(ZarrStatusCode_InvalidSettings, "AWS_CONTAINER_CREDENTIALS_FULL_URI '", c.url,
                 "' must be an https:// URL, or an http:// URL of a loopback address or the "
                 "container metadata host (169.254.170.2, 169.254.170.23)");
        }
    }
    c.authorization = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    c.authorization_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    return c;
}

TimedCredentials
fetch_container(const ContainerConfig& config)
{
    HttpRequest request;
    request.url = config.url;
    request.headers = { "Accept: application/json" };
    const std::string token =
      !config.authorization_file.empty()
        ? read_token_file(config.authorization_file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        : config.authorization;
    if (!token.empty()) {
        request.headers.push_back("Authorization: " + token);
    }
    const HttpResponse r = http(request);
    const std::string where = cat("the container credentials endpoint ", config.url);
    if (r.status != 200) {
        fail(ZarrStatusCode_IOError, where, " answered ", describe(r));
    }
    return from_json(r.body, where);
}

ImdsConfig
imds_from_environment()
{
    ImdsConfig c;
    if (const std::string set = without_trailing_slashes(env("AWS_EC2_METADATA_SERVICE_ENDPOINT"));
        !set.empty()) {
        c.endpoint = set;
    }
    return c;
}

TimedCredentials
fetch_imds(const ImdsConfig& config)
{
    HttpRequest request;
    request.connect_timeout_ms = config.connect_timeout_ms;
    request.timeout_ms = config.timeout_ms;
    request.method = "PUT";
    request.url = config.endpoint + "/latest/api/token";
    request.headers = { "X-aws-ec2-metadata-token-ttl-seconds: 21600", "Expect:" };
    HttpResponse r = http(request);
    if (r.status != 200 || r.body.empty()) {
        fail(ZarrStatusCode_IOError, "PUT ", request.url, " (IMDSv2 session token) answered ",
             cat("HTTP ", r.status));
    }
    const std::string session = r.body;

    request.method = "GET";
    request.body.clear();
    request.headers = { "X-aws-ec2-metadata-token: " + session };
    request.url = config.endpoint + "/latest/meta-data/iam/security-credentials/";
    r = http(request);
    std::string role = r.body.substr(0, r.body.find_first_of("\r\n"));
    if (r.status != 200 || role.empty()) {
        fail(ZarrStatusCode_IOError, "GET ", request.url,
             r.status == 404 ? " found no IAM role attached to the instance"
                             : " answered " + describe(r));
    }
    request.url += role;
    r = http(request);
    const std::string where = cat("GET ", request.url);
    if (r.status != 200) {
        fail(ZarrStatusCode_IOError, where, " answered ", describe(r));
    }
    return from_json(r.body, where);
}

} // namespace zarr::storage::s3
