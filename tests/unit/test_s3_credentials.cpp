// Where S3 credentials come from (storage/s3/credentials.hh): the files and
// the environment always; STS, the container endpoint and IMDSv2 against the
// fake endpoint of tests/s3/credserver.py when ACQUIRE_ZARR_TEST_CRED_SERVER
// names it (ctest runs this program through credserver.py).
#include "storage/s3/credentials.hh"
#include "storage/s3/remote_credentials.hh"
#include "temp_dir.hh"
#include "util/error.hh"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace zarr::storage::s3;
using namespace std::chrono_literals;

namespace {

const char* const kVariables[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED",
};

std::string
write_file(const fs::path& path, const std::string& text)
{
    std::ofstream(path) << text;
    return path.string();
}

size_t
append(char* data, size_t size, size_t count, void* user)
{
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

/// POSTs `body` (or GETs when empty) to the fake endpoint's control path.
std::string
control(const std::string& url, const std::string& body = "")
{
    CURL* c = curl_easy_init();
    std::string out;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    if (!body.empty()) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    }
    const CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    EXPECT_EQ(rc, CURLE_OK) << url;
    return out;
}

/// The message of the zarr::Error `f` throws, and its code.
template<typename F>
std::pair<ZarrStatusCode, std::string>
error_of(F&& f)
{
    try {
        f();
    } catch (const zarr::Error& e) {
        return { e.code(), e.what() };
    }
    ADD_FAILURE() << "no zarr::Error thrown";
    return { ZarrStatusCode_Success, "" };
}

class Credentials_ : public zarr::test::TempDirTest<>
{
  protected:
    void SetUp() override
    {
        for (const char* v : kVariables) {
            unsetenv(v);
        }
        fs::create_directories(root_ / ".aws");
        setenv("HOME", root_.c_str(), 1); // no ~/.aws of the machine
        setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    }

    /// The fake endpoint, configured with `settings` (JSON); skips the test
    /// when it is not running.
    std::string server(const std::string& settings = "{}")
    {
        const char* url = std::getenv("ACQUIRE_ZARR_TEST_CRED_SERVER");
        if (url == nullptr) {
            return "";
        }
        control(std::string(url) + "/_ctl/config", settings);
        return url;
    }
    std::string stats() { return control(std::string(std::getenv("ACQUIRE_ZARR_TEST_CRED_SERVER")) + "/_ctl/stats"); }
};

/// The tests that need the fake endpoint (ctest runs them only through
/// credserver.py).
class CredentialEndpoints : public Credentials_
{};

#define NEED_SERVER(url)                                                                  \
    if ((url).empty()) {                                                                  \
        GTEST_SKIP() << "ACQUIRE_ZARR_TEST_CRED_SERVER is not set (run through "          \
                        "tests/s3/credserver.py)";                                        \
    }

bool
has(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_F(Credentials_, EnvironmentWinsOverTheFiles)
{
    write_file(root_ / ".aws/credentials",
               "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    auto p = find_credentials();
    const Credentials c = p->get();
    EXPECT_EQ(c.access_key_id, "ENVKEY");
    EXPECT_EQ(c.secret_access_key, "envsecret");
    EXPECT_EQ(c.session_token, "envtoken");
    EXPECT_EQ(p->source(), "the environment");
}

TEST_F(Credentials_, KeyIdWithoutSecretIsRefused)
{
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    const auto [code, what] = error_of([] { find_credentials(); });
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings);
    EXPECT_TRUE(has(what, "AWS_SECRET_ACCESS_KEY is not")) << what;
}

TEST_F(Credentials_, ProfileComesFromAwsProfileInTheCredentialsFile)
{
    write_file(root_ / ".aws/credentials",
               "[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n"
               "[lab]\naws_access_key_id = LAB\naws_secret_access_key = l\n"
               "aws_session_token = labtoken\n");
    EXPECT_EQ(find_credentials()->get().access_key_id, "DEF");
    setenv("AWS_DEFAULT_PROFILE", "lab", 1);
    const Credentials c = find_credentials()->get();
    EXPECT_EQ(c.access_key_id, "LAB");
    EXPECT_EQ(c.session_token, "labtoken");
    setenv("AWS_PROFILE", "default", 1); // AWS_PROFILE wins
    EXPECT_EQ(find_credentials()->get().access_key_id, "DEF");
}

TEST_F(Credentials_, ConfigFileProfilesAreProfileSectionsAndNeedNoRegion)
{
    const std::string config = write_file(
      root_ / "config", "[default]\naws_access_key_id = CDEF\naws_secret_access_key = c\n"
                       "[lab]\naws_access_key_id = WRONG\naws_secret_access_key = w\n"
                       "[profile lab]\naws_access_key_id = CLAB\naws_secret_access_key = c\n");
    setenv("AWS_CONFIG_FILE", config.c_str(), 1);
    EXPECT_EQ(find_credentials()->get().access_key_id, "CDEF");
    setenv("AWS_PROFILE", "lab", 1);
    auto p = find_credentials();
    EXPECT_EQ(p->get().access_key_id, "CLAB");
    EXPECT_TRUE(has(p->source(), "profile 'lab' of '" + config + "'")) << p->source();
}

TEST_F(Credentials_, CredentialsFileWinsOverConfigFileForTheSameProfile)
{
    write_file(root_ / ".aws/config",
               "[profile lab]\nregion = eu-west-1\naws_access_key_id = CONFIG\n"
               "aws_secret_access_key = c\n[profile other]\naws_access_key_id = OTHER\n"
               "aws_secret_access_key = o\n");
    write_file(root_ / ".aws/credentials",
               "[lab]\naws_access_key_id = CREDS\naws_secret_access_key = c\n");
    setenv("AWS_PROFILE", "lab", 1);
    EXPECT_EQ(find_credentials()->get().access_key_id, "CREDS");
    setenv("AWS_PROFILE", "other", 1); // only in the config file
    EXPECT_EQ(find_credentials()->get().access_key_id, "OTHER");
}

TEST_F(Credentials_, NothingFoundNamesEveryPlaceLooked)
{
    setenv("AWS_PROFILE", "nope", 1);
    const auto [code, what] = error_of([] { find_credentials(); });
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings);
    for (const std::string& part :
         { std::string("no AWS credentials found"), std::string("AWS_ACCESS_KEY_ID"),
           (root_ / ".aws/credentials").string(), (root_ / ".aws/config").string(),
           std::string("profile 'nope'"), std::string("AWS_WEB_IDENTITY_TOKEN_FILE"),
           std::string("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
           std::string("AWS_EC2_METADATA_DISABLED") }) {
        EXPECT_TRUE(has(what, part)) << part << " not in: " << what;
    }
}

TEST_F(Credentials_, Iso8601ExpirationsParseAsUtc)
{
    const auto t = parse_iso8601("2026-12-04T18:00:00Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(Clock::to_time_t(*t), 1796407200);
    EXPECT_EQ(parse_iso8601("2026-12-04T18:00:00.123Z"), t);
    EXPECT_EQ(parse_iso8601("2026-12-04T18:00:00+00:00"), t);
    EXPECT_FALSE(parse_iso8601("2026-12-04 18:00"));
    EXPECT_FALSE(parse_iso8601("2026-12-04T18:00:00+02:00"));
    EXPECT_FALSE(parse_iso8601(""));
}

TEST_F(Credentials_, RelativeContainerUriGoesToTheContainerMetadataHost)
{
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/ignored", 1);
    const auto c = container_from_environment();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->url, "http://169.254.170.2/v2/credentials/abc");
}

TEST_F(Credentials_, FullContainerUriOverPlainHttpToAnotherHostIsRefused)
{
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
    const auto [code, what] = error_of([] { find_credentials(); });
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings);
    EXPECT_TRUE(has(what, "must be an https:// URL")) << what;
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://example.com/creds", 1);
    EXPECT_TRUE(container_from_environment());
}

TEST_F(Credentials_, RoleArnWithoutTokenFileIsRefused)
{
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/x", 1);
    const auto [code, what] = error_of([] { find_credentials(); });
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings);
    EXPECT_TRUE(has(what, "AWS_WEB_IDENTITY_TOKEN_FILE is not")) << what;
}

TEST_F(Credentials_, StsEndpointIsRegionalUnlessOverridden)
{
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/x", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/t", 1);
    EXPECT_EQ(web_identity_from_environment()->sts_endpoint, "https://sts.amazonaws.com");
    setenv("AWS_REGION", "eu-west-1", 1);
    EXPECT_EQ(web_identity_from_environment()->sts_endpoint,
              "https://sts.eu-west-1.amazonaws.com");
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5/sts/", 1);
    EXPECT_EQ(web_identity_from_environment()->sts_endpoint, "http://127.0.0.1:5/sts");
}

TEST_F(CredentialEndpoints, WebIdentityTokenIsExchangedAtSts)
{
    const std::string url = server();
    NEED_SERVER(url);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE",
           write_file(root_ / "token", "fake-web-identity-token\n").c_str(), 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/acquire-test", 1);
    setenv("AWS_ROLE_SESSION_NAME", "session-of-test", 1);
    setenv("AWS_ENDPOINT_URL_STS", (url + "/sts").c_str(), 1);
    auto p = find_credentials();
    const Credentials c = p->get();
    EXPECT_EQ(c.access_key_id, "AKIDFAKECREDENTIALS-1");
    EXPECT_EQ(c.secret_access_key, "fake-secret-access-key-1");
    EXPECT_EQ(c.session_token, "fake-session-token-1");
    EXPECT_TRUE(has(p->source(), "web identity")) << p->source();
    const std::string s = stats();
    EXPECT_TRUE(has(s, "\"sts\": 1") && has(s, "session-of-test")) << s;
}

TEST_F(CredentialEndpoints, StsRefusalNamesTheRoleAndCodeButNotTheToken)
{
    const std::string url = server();
    NEED_SERVER(url);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE",
           write_file(root_ / "token", "fake-web-identity-token").c_str(), 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/not-allowed", 1);
    setenv("AWS_ENDPOINT_URL_STS", (url + "/sts").c_str(), 1);
    const auto [code, what] = error_of([] { find_credentials(); });
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings);
    EXPECT_TRUE(has(what, "role/not-allowed") && has(what, "AccessDenied")) << what;
    EXPECT_FALSE(has(what, "fake-web-identity-token")) << what;
}

TEST_F(CredentialEndpoints, ContainerEndpointGetsTheAuthorizationToken)
{
    const std::string url = server(R"({"container_authorization": "Bearer right"})");
    NEED_SERVER(url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (url + "/container/credentials").c_str(), 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer right", 1);
    auto p = find_credentials();
    EXPECT_EQ(p->get().access_key_id, "AKIDFAKECREDENTIALS-1");
    EXPECT_EQ(p->get().session_token, "fake-session-token-1");

    // The token file wins over the variable.
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
           write_file(root_ / "auth", "Bearer right\n").c_str(), 1);
    EXPECT_EQ(find_credentials()->get().access_key_id, "AKIDFAKECREDENTIALS-2");
    EXPECT_TRUE(has(stats(), "\"refused\": 0")) << stats();
}

TEST_F(CredentialEndpoints, WrongContainerAuthorizationIsRefusedWithoutShowingIt)
{
    const std::string url = server(R"({"container_authorization": "Bearer right"})");
    NEED_SERVER(url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (url + "/container/credentials").c_str(), 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer s3cr3t-wrong", 1);
    const auto [code, what] = error_of([] { find_credentials(); });
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings);
    EXPECT_TRUE(has(what, "HTTP 401") && has(what, "/container/credentials")) << what;
    EXPECT_FALSE(has(what, "s3cr3t")) << what;
}

TEST_F(CredentialEndpoints, ImdsV2FetchesWithASessionToken)
{
    const std::string url = server();
    NEED_SERVER(url);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", (url + "/imds/").c_str(), 1);
    auto p = find_credentials();
    const Credentials c = p->get();
    EXPECT_EQ(c.access_key_id, "AKIDFAKECREDENTIALS-1");
    EXPECT_EQ(c.session_token, "fake-session-token-1");
    const std::string s = stats();
    EXPECT_TRUE(has(s, "\"imds_token\": 1") && has(s, "\"imds_list\": 1") &&
                has(s, "\"imds_credentials\": 1") && has(s, "\"refused\": 0"))
      << s;
}

TEST_F(Credentials_, ImdsDisabledOrAbsentEndsTheSearchQuickly)
{
    unsetenv("AWS_EC2_METADATA_DISABLED");
    // A loopback port nobody listens on: the connection is refused.
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
    const auto start = std::chrono::steady_clock::now();
    const auto [code, what] = error_of([] { find_credentials(); });
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings);
    EXPECT_TRUE(has(what, "at http://127.0.0.1:9 gave none")) << what;
}

TEST_F(CredentialEndpoints, SourcesAreTriedInTheOrderOfAwsSdks)
{
    const std::string url = server();
    NEED_SERVER(url);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", (url + "/imds").c_str(), 1);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (url + "/container/credentials").c_str(), 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE",
           write_file(root_ / "token", "fake-web-identity-token").c_str(), 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/acquire-test", 1);
    setenv("AWS_ENDPOINT_URL_STS", (url + "/sts").c_str(), 1);
    write_file(root_ / ".aws/credentials",
               "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n");
    setenv("AWS_ACCESS_KEY_ID", "ENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "e", 1);

    EXPECT_EQ(find_credentials()->get().access_key_id, "ENV");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    EXPECT_EQ(find_credentials()->get().access_key_id, "FILE");
    fs::remove(root_ / ".aws/credentials");
    EXPECT_TRUE(has(find_credentials()->source(), "web identity"));
    unsetenv("AWS_ROLE_ARN");
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    EXPECT_TRUE(has(find_credentials()->source(), "container credentials"));
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    EXPECT_TRUE(has(find_credentials()->source(), "EC2 instance metadata"));
    // Each remote source was asked once, when it was the first one set.
    const std::string s = stats();
    EXPECT_TRUE(has(s, "\"sts\": 1") && has(s, "\"container\": 1") &&
                has(s, "\"imds_credentials\": 1"))
      << s;
}

TEST_F(CredentialEndpoints, TemporaryCredentialsAreRefreshedBeforeTheyExpireOnEveryThread)
{
    // Expiration 4 s ahead (whole seconds): refreshed at half the lifetime.
    const std::string url = server(R"({"lifetime": 4})");
    NEED_SERVER(url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (url + "/container/credentials").c_str(), 1);
    auto p = find_credentials();
    EXPECT_EQ(p->get().access_key_id, "AKIDFAKECREDENTIALS-1");

    std::atomic<int> bad{ 0 };
    std::atomic<int> highest{ 1 };
    std::vector<std::thread> threads;
    const auto until = std::chrono::steady_clock::now() + 6s;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&] {
            while (std::chrono::steady_clock::now() < until) {
                const Credentials c = p->get();
                const auto dash = c.access_key_id.rfind('-');
                const int n = std::stoi(c.access_key_id.substr(dash + 1));
                // Key id, secret and token always come from the same issue.
                if (c.secret_access_key != "fake-secret-access-key-" + std::to_string(n) ||
                    c.session_token != "fake-session-token-" + std::to_string(n)) {
                    ++bad;
                }
                int seen = highest.load();
                while (n > seen && !highest.compare_exchange_weak(seen, n)) {
                }
                std::this_thread::sleep_for(5ms);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(bad, 0);
    // 6 s of 3-4 s lifetimes, refreshed at half: 2 to 5 more fetches, not
    // one per request.
    EXPECT_GE(highest.load(), 3);
    EXPECT_LE(highest.load(), 7);
}

TEST_F(CredentialEndpoints, FailedRefreshKeepsValidCredentialsThenReportsExpiry)
{
    const std::string url = server(R"({"lifetime": 4})"); // 3-4 s: whole seconds
    NEED_SERVER(url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (url + "/container/credentials").c_str(), 1);
    auto p = find_credentials();
    EXPECT_EQ(p->get().access_key_id, "AKIDFAKECREDENTIALS-1");
    server(R"({"fail": {"container": 503}})");
    std::this_thread::sleep_for(2200ms); // past half the lifetime, not its end
    EXPECT_EQ(p->get().access_key_id, "AKIDFAKECREDENTIALS-1");
    std::this_thread::sleep_for(3000ms); // past the end
    const auto [code, what] = error_of([&] { p->get(); });
    EXPECT_EQ(code, ZarrStatusCode_IOError);
    EXPECT_TRUE(has(what, "have expired") && has(what, "HTTP 503")) << what;
    EXPECT_FALSE(has(what, "fake-secret")) << what;
}

TEST_F(CredentialEndpoints, OtherThreadsGoOnWithValidCredentialsDuringARefresh)
{
    const std::string url = server(R"({"lifetime": 4})");
    NEED_SERVER(url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (url + "/container/credentials").c_str(), 1);
    auto p = find_credentials();
    server(R"({"lifetime": 4, "delay": 1.5, "access_key_id": "AKIDSLOW"})");
    std::this_thread::sleep_for(2200ms); // refresh due, the current ones still valid
    std::thread refresher([&] { EXPECT_EQ(p->get().access_key_id, "AKIDSLOW-1"); });
    std::this_thread::sleep_for(300ms);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(p->get().access_key_id, "AKIDFAKECREDENTIALS-1");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
    refresher.join();
    EXPECT_EQ(p->get().access_key_id, "AKIDSLOW-1");
}
