// Temporary credentials fetched over HTTP (libcurl): STS
// AssumeRoleWithWebIdentity, the container credentials endpoint and EC2
// instance metadata (IMDSv2). Each fetch throws zarr::Error(IOError) naming
// the URL and what went wrong, never a token or a secret.
#pragma once

#include "credentials.hh"

#include <optional>
#include <string>

namespace zarr::storage::s3 {

struct WebIdentityConfig
{
    std::string token_file;   // AWS_WEB_IDENTITY_TOKEN_FILE, read at every fetch
    std::string role_arn;     // AWS_ROLE_ARN
    std::string session_name; // AWS_ROLE_SESSION_NAME, else one is made up
    std::string sts_endpoint; // AWS_ENDPOINT_URL_STS, else AWS's regional or global one
};

/// Set when AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN both are; throws
/// zarr::Error(InvalidSettings) when only one of them is.
std::optional<WebIdentityConfig>
web_identity_from_environment();

TimedCredentials
fetch_web_identity(const WebIdentityConfig& config);

struct ContainerConfig
{
    std::string url;                  // full URL of the credentials
    std::string authorization;        // AWS_CONTAINER_AUTHORIZATION_TOKEN
    std::string authorization_file;   // ..._TOKEN_FILE (wins; read at every fetch)
};

/// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (against http://169.254.170.2),
/// else AWS_CONTAINER_CREDENTIALS_FULL_URI, which must be https or name a
/// loopback or the container metadata host. Throws
/// zarr::Error(InvalidSettings) for a FULL_URI that is neither.
std::optional<ContainerConfig>
container_from_environment();

TimedCredentials
fetch_container(const ContainerConfig& config);

struct ImdsConfig
{
    std::string endpoint = "http://169.254.169.254";
    long connect_timeout_ms = 1000; // a machine without the service waits little
    long timeout_ms = 3000;
};

/// AWS_EC2_METADATA_SERVICE_ENDPOINT, or the default endpoint.
ImdsConfig
imds_from_environment();

TimedCredentials
fetch_imds(const ImdsConfig& config);

} // namespace zarr::storage::s3
