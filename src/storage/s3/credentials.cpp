#include "credentials.hh"

#include "remote_credentials.hh"

#include "../../util/error.hh"
#include "../../util/log.hh"

#include <ini.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace zarr::storage::s3 {

namespace {

std::string
env(const char* name)
{
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

/// `path` with a leading "~/" replaced by $HOME.
std::string
expand_home(const std::string& path)
{
    if (path.rfind("~/", 0) == 0 && !env("HOME").empty()) {
        return env("HOME") + path.substr(1);
    }
    return path;
}

std::string
aws_file(const char* variable, const char* name)
{
    const std::string set = env(variable);
    if (!set.empty()) {
        return expand_home(set);
    }
    const std::string home = env("HOME");
    return (home.empty() ? std::string("~") : home) + "/.aws/" + name;
}

struct ProfileReader
{
    std::string section;
    Credentials* out;
    bool found = false;
};

int
on_entry(void* user, const char* section, const char* name, const char* value)
{
    auto* r = static_cast<ProfileReader*>(user);
    if (section == nullptr || r->section != section) {
        return 1;
    }
    r->found = true;
    const std::string key = name ? name : "";
    if (key == "aws_access_key_id") {
        r->out->access_key_id = value ? value : "";
    } else if (key == "aws_secret_access_key") {
        r->out->secret_access_key = value ? value : "";
    } else if (key == "aws_session_token") {
        r->out->session_token = value ? value : "";
    }
    return 1;
}

bool
read_section(const char* what, const std::string& path, const std::string& section,
             Credentials& out)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return false;
    }
    Credentials found;
    ProfileReader reader{ section, &found };
    const int rc = ini_parse(path.c_str(), on_entry, &reader);
    if (rc < 0) {
        fail(ZarrStatusCode_InvalidSettings, "cannot read the AWS ", what, " file '", path,
             "'");
    }
    if (rc > 0) {
        fail(ZarrStatusCode_InvalidSettings, "the AWS ", what, " file '", path,
             "' is not valid INI (line ", rc, ")");
    }
    if (!reader.found || found.access_key_id.empty() ||
        found.secret_access_key.empty()) {
        return false;
    }
    out = std::move(found);
    return true;
}

/// Credentials from the environment variables, or nullopt when neither
/// the key id nor the secret is set.
std::optional<Credentials>
from_environment()
{
    Credentials c;
    c.access_key_id = env("AWS_ACCESS_KEY_ID");
    c.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
    if (!c.access_key_id.empty() && !c.secret_access_key.empty()) {
        c.session_token = env("AWS_SESSION_TOKEN");
        return c;
    }
    if (!c.access_key_id.empty() || !c.secret_access_key.empty()) {
        fail(ZarrStatusCode_InvalidSettings,
             !c.access_key_id.empty()
               ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
               : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    }
    return std::nullopt;
}

bool
truthy(const std::string& value)
{
    std::string v;
    for (char c : value) {
        v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return v == "true" || v == "1" || v == "yes";
}

/// A provider of a source that is configured: failing to fetch from it is
/// an error, not a reason to try the next source (as in AWS SDKs).
std::shared_ptr<CredentialsProvider>
fetched(CredentialsProvider::Fetch fetch, const std::string& source)
{
    try {
        auto provider = std::make_shared<CredentialsProvider>(std::move(fetch), source);
        log::debug("S3 credentials from ", source);
        return provider;
    } catch (const Error& e) {
        fail(ZarrStatusCode_InvalidSettings, "s3_settings: no AWS credentials from ", source,
             ": ", e.what());
    }
}

// Temporary credentials are refreshed this long before they expire, or at
// half their lifetime when that is shorter.
constexpr auto kRefreshMargin = std::chrono::minutes(5);
// Fetches are this far apart at least (a source that keeps handing out
// credentials near their expiration is not asked on every request).
constexpr auto kMinFetchInterval = std::chrono::seconds(1);

} // namespace

CredentialsProvider::CredentialsProvider(Credentials fixed, std::string source)
  : source_(std::move(source))
  , current_{ std::move(fixed), std::nullopt }
{
}

CredentialsProvider::CredentialsProvider(Fetch fetch, std::string source)
  : fetch_(std::move(fetch))
  , source_(std::move(source))
{
    current_ = fetch_();
    fetched_at_ = Clock::now();
    next_try_ = fetched_at_ + kMinFetchInterval;
}

bool
CredentialsProvider::needs_refresh(Clock::time_point now) const
{
    if (!fetch_ || !current_.expiration) {
        return false;
    }
    const auto expiration = *current_.expiration;
    if (now >= expiration) {
        return true;
    }
    const auto margin = std::min<Clock::duration>(kRefreshMargin, (expiration - fetched_at_) / 2);
    return now >= expiration - margin && now >= next_try_;
}

Credentials
CredentialsProvider::get()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        const auto now = Clock::now();
        if (!needs_refresh(now)) {
            return current_.credentials;
        }
        if (!refreshing_) {
            break;
        }
        // Another thread is fetching: until they expire, the current
        // credentials serve, so requests do not wait on the fetch.
        if (now < *current_.expiration) {
            return current_.credentials;
        }
        refreshed_.wait(lock);
    }
    refreshing_ = true;
    const auto started = Clock::now();
    next_try_ = started + kMinFetchInterval;
    lock.unlock();
    std::optional<TimedCredentials> fresh;
    std::string why;
    try {
        fresh = fetch_();
    } catch (const std::exception& e) {
        why = e.what();
    }
    lock.lock();
    refreshing_ = false;
    refreshed_.notify_all();
    if (fresh) {
        current_ = std::move(*fresh);
        fetched_at_ = started;
        log::debug("S3 credentials from ", source_, " refreshed");
        return current_.credentials;
    }
    const auto now = Clock::now();
    if (now >= *current_.expiration) {
        fail(ZarrStatusCode_IOError, "the S3 credentials from ", source_,
             " have expired and fetching new ones failed: ", why);
    }
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(*current_.expiration - now);
    log::warning("refreshing the S3 credentials from ", source_, " failed (", why,
                 "); the current ones are valid for another ", left.count(), " s");
    return current_.credentials;
}

bool
read_credentials_file(const std::string& path, const std::string& profile,
                      Credentials& out)
{
    return read_section("credentials", path, profile, out);
}

bool
read_config_file(const std::string& path, const std::string& profile,
                 Credentials& out)
{
    return read_section("config", path,
                        profile == "default" ? profile : "profile " + profile, out) ||
           (profile == "default" && read_section("config", path, "profile default", out));
}

std::optional<Clock::time_point>
parse_iso8601(const std::string& text)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
                    &n) != 6 ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
        return std::nullopt;
    }
    std::string rest = text.substr(static_cast<size_t>(n));
    if (!rest.empty() && rest.front() == '.') {
        size_t digits = 1;
        while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
            ++digits;
        }
        rest = rest.substr(digits);
    }
    if (rest != "Z" && rest != "+00:00" && rest != "z") {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return Clock::from_time_t(timegm(&tm));
}

std::shared_ptr<CredentialsProvider>
find_credentials()
{
    if (auto c = from_environment()) {
        log::debug("S3 credentials from the environment");
        return std::make_shared<CredentialsProvider>(*c, "the environment");
    }

    const std::string credentials_path =
      aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    const std::string config_path = aws_file("AWS_CONFIG_FILE", "config");
    std::string profile = env("AWS_PROFILE");
    if (profile.empty()) {
        profile = env("AWS_DEFAULT_PROFILE");
    }
    if (profile.empty()) {
        profile = "default";
    }
    Credentials c;
    for (const auto& [path, config] :
         { std::pair{ credentials_path, false }, std::pair{ config_path, true } }) {
        if (config ? read_config_file(path, profile, c)
                   : read_credentials_file(path, profile, c)) {
            const std::string source = cat("profile '", profile, "' of '", path, "'");
            log::debug("S3 credentials from ", source);
            return std::make_shared<CredentialsProvider>(c, source);
        }
    }

    if (auto web = web_identity_from_environment()) {
        return fetched([web = *web] { return fetch_web_identity(web); },
                       cat("web identity (", web->role_arn, " via ", web->sts_endpoint, ")"));
    }
    if (auto container = container_from_environment()) {
        return fetched([container = *container] { return fetch_container(container); },
                       cat("container credentials at ", container->url));
    }

    std::string imds_status = "is disabled (AWS_EC2_METADATA_DISABLED)";
    if (!truthy(env("AWS_EC2_METADATA_DISABLED"))) {
        const ImdsConfig imds = imds_from_environment();
        try {
            // The first fetch is made here so that a machine without the
            // service is told so now.
            auto first = std::make_shared<TimedCredentials>(fetch_imds(imds));
            return fetched(
              [imds, first]() mutable {
                  if (first) {
                      TimedCredentials out = std::move(*first);
                      first.reset();
                      return out;
                  }
                  return fetch_imds(imds);
              },
              cat("EC2 instance metadata at ", imds.endpoint));
        } catch (const Error& e) {
            imds_status = cat("at ", imds.endpoint, " gave none (", e.what(), ")");
        }
    }
    fail(ZarrStatusCode_InvalidSettings,
         "s3_settings: no AWS credentials found: AWS_ACCESS_KEY_ID and "
         "AWS_SECRET_ACCESS_KEY are not set, neither the credentials file '",
         credentials_path, "' nor the config file '", config_path, "' has a profile '",
         profile,
         "' with aws_access_key_id and aws_secret_access_key, neither "
         "AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN nor "
         "AWS_CONTAINER_CREDENTIALS_FULL_URI/_RELATIVE_URI is set, and the EC2 "
         "instance metadata service ",
         imds_status);
}

} // namespace zarr::storage::s3
