// Where S3 credentials come from: the environment, else the shared
// credentials file. Nothing here ever logs or reports a secret.
#pragma once

#include "sigv4.hh"

#include <string>

namespace zarr::storage::s3 {

/// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the
/// profile AWS_PROFILE (default "default") of the file
/// AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials). Throws
/// zarr::Error(InvalidSettings) saying where it looked when none is found.
Credentials
find_credentials();

/// The profile `profile` of the credentials file at `path`, read with inih.
/// Returns false if the file or the profile does not exist, or lacks a key
/// id or secret; throws if the file exists but cannot be parsed.
bool
read_credentials_file(const std::string& path, const std::string& profile,
                      Credentials& out);

} // namespace zarr::storage::s3
