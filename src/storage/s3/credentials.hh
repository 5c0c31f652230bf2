// Where S3 credentials come from, in the order AWS SDKs use:
//   1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
//      (+ AWS_SESSION_TOKEN);
//   2. the profile AWS_PROFILE (else AWS_DEFAULT_PROFILE, else "default") of
//      the shared credentials file AWS_SHARED_CREDENTIALS_FILE
//      (~/.aws/credentials), else of the config file AWS_CONFIG_FILE
//      (~/.aws/config, sections "[profile NAME]" and "[default]");
//   3. web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: STS
//      AssumeRoleWithWebIdentity), then container credentials
//      (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI);
//   4. EC2 instance metadata (IMDSv2), unless AWS_EC2_METADATA_DISABLED.
// Temporary credentials are refreshed before they expire. Nothing here ever
// logs or reports a secret, a session token or an authorization token.
#pragma once

#include "sigv4.hh"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace zarr::storage::s3 {

using Clock = std::chrono::system_clock;

/// Credentials with the time they stop working (none: they do not expire).
struct TimedCredentials
{
    Credentials credentials;
    std::optional<Clock::time_point> expiration;
};

/// The current credentials of one source, shared by every request of a
/// store. Thread-safe: requests on any thread call get(), and the first one
/// to find the credentials near their expiration fetches new ones while the
/// others go on with the current ones (or wait, once those have expired).
class CredentialsProvider
{
  public:
    using Fetch = std::function<TimedCredentials()>;

    /// Credentials that never change.
    explicit CredentialsProvider(Credentials fixed, std::string source);
    /// Credentials fetched by `fetch` (which throws zarr::Error on failure),
    /// once now and again whenever they near their expiration.
    CredentialsProvider(Fetch fetch, std::string source);

    /// Credentials valid for at least a while. When the refresh fails and
    /// the current ones have not expired yet, those; once they have, throws
    /// zarr::Error(IOError) saying why the refresh failed.
    Credentials get();

    /// Where the credentials come from ("the environment",
    /// "container credentials at http://..."), for messages.
    const std::string& source() const { return source_; }

  private:
    bool needs_refresh(Clock::time_point now) const;

    Fetch fetch_;
    std::string source_;
    std::mutex mutex_;
    std::condition_variable refreshed_;
    bool refreshing_ = false; // a thread is fetching, without the mutex
    TimedCredentials current_;
    Clock::time_point fetched_at_;
    Clock::time_point next_try_; // after a failed refresh
};

/// The first source in the order above that is configured. Throws
/// zarr::Error(InvalidSettings) saying where it looked when none gives
/// credentials, or naming the source that is configured but fails.
std::shared_ptr<CredentialsProvider>
find_credentials();

/// The profile `profile` of the credentials file at `path`, read with inih.
/// Returns false if the file or the profile does not exist, or lacks a key
/// id or secret; throws if the file exists but cannot be parsed.
bool
read_credentials_file(const std::string& path, const std::string& profile,
                      Credentials& out);

/// Like read_credentials_file, for the config file's layout: the profile is
/// the section "[profile NAME]", or "[default]" for "default".
bool
read_config_file(const std::string& path, const std::string& profile,
                 Credentials& out);

/// A UTC time in ISO 8601 form ("2026-12-04T18:00:00Z", with optional
/// fractional seconds, or "+00:00" for "Z"), as STS and the metadata
/// services write Expiration. std::nullopt when it is not one.
std::optional<Clock::time_point>
parse_iso8601(const std::string& text);

} // namespace zarr::storage::s3
