#include "credentials.hh"

#include "../../util/error.hh"

#include <ini.h>

#include <cstdlib>
#include <filesystem>

namespace zarr::storage::s3 {

namespace {

std::string
env(const char* name)
{
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

struct ProfileReader
{
    const std::string* profile;
    Credentials* out;
    bool found = false;
};

int
on_entry(void* user, const char* section, const char* name, const char* value)
{
    auto* r = static_cast<ProfileReader*>(user);
    if (section == nullptr || *r->profile != section) {
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

} // namespace

bool
read_credentials_file(const std::string& path, const std::string& profile,
                      Credentials& out)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return false;
    }
    Credentials found;
    ProfileReader reader{ &profile, &found };
    const int rc = ini_parse(path.c_str(), on_entry, &reader);
    if (rc < 0) {
        fail(ZarrStatusCode_InvalidSettings, "cannot read the AWS credentials file '",
             path, "'");
    }
    if (rc > 0) {
        fail(ZarrStatusCode_InvalidSettings, "the AWS credentials file '", path,
             "' is not valid INI (line ", rc, ")");
    }
    if (!reader.found || found.access_key_id.empty() ||
        found.secret_access_key.empty()) {
        return false;
    }
    out = std::move(found);
    return true;
}

Credentials
find_credentials()
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

    std::string path = env("AWS_SHARED_CREDENTIALS_FILE");
    if (path.empty()) {
        const std::string home = env("HOME");
        path = (home.empty() ? std::string("~") : home) + "/.aws/credentials";
    } else if (path.rfind("~/", 0) == 0 && !env("HOME").empty()) {
        path = env("HOME") + path.substr(1);
    }
    std::string profile = env("AWS_PROFILE");
    if (profile.empty()) {
        profile = "default";
    }
    if (read_credentials_file(path, profile, c)) {
        return c;
    }
    fail(ZarrStatusCode_InvalidSettings,
         "s3_settings: no AWS credentials found: AWS_ACCESS_KEY_ID and "
         "AWS_SECRET_ACCESS_KEY are not set, and the credentials file '",
         path, "' has no profile '", profile,
         "' with aws_access_key_id and aws_secret_access_key");
}

} // namespace zarr::storage::s3
