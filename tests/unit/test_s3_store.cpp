// The S3 store against a real server (ctest runs it through
// tests/s3/s3server.py, which starts SeaweedFS and sets the
// ACQUIRE_ZARR_TEST_S3_* variables): which request kind writes a whole
// object (docs/s3.md, "One PutObject or a multipart upload"), and
// virtual-host addressing. The request kind shows in the object's ETag: a
// PutObject's is the MD5 of the bytes, a multipart upload's ends in
// "-<number of parts>".
#include "storage/open_store.hh"
#include "storage/s3/client.hh"
#include "storage/s3/multipart_sink.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

using namespace zarr::storage;

namespace {

std::string
env(const char* name)
{
    const char* v = std::getenv(name);
    return v ? v : "";
}

class S3Store : public testing::Test
{
  protected:
    void SetUp() override
    {
        if (env("ACQUIRE_ZARR_TEST_S3_ENDPOINT").empty()) {
            GTEST_SKIP() << "needs a server: run through tests/s3/s3server.py";
        }
    }

    S3StoreConfig config(bool virtual_host = false) const
    {
        S3StoreConfig c;
        c.endpoint = env(virtual_host ? "ACQUIRE_ZARR_TEST_S3_VIRTUAL_HOST_ENDPOINT"
                                      : "ACQUIRE_ZARR_TEST_S3_ENDPOINT");
        c.bucket = env("ACQUIRE_ZARR_TEST_S3_BUCKET");
        c.region = env("ACQUIRE_ZARR_TEST_S3_REGION");
        c.prefix = "az-s3-store-" + std::to_string(::getpid()) + "/" +
                   testing::UnitTest::GetInstance()->current_test_info()->name();
        c.virtual_host = virtual_host;
        return c;
    }

    /// The ETag of `key` under the prefix of `c`, asked path-style.
    std::string etag(const S3StoreConfig& c, const std::string& key) const
    {
        s3::ClientConfig cc;
        cc.endpoint = env("ACQUIRE_ZARR_TEST_S3_ENDPOINT");
        cc.bucket = c.bucket;
        cc.credentials = s3::find_credentials();
        s3::Client client(cc);
        s3::Request head;
        head.method = "HEAD";
        head.key = c.prefix + "/" + key;
        const s3::Response r = client.send(head);
        EXPECT_EQ(r.status, 200) << "HEAD " << head.key;
        return r.etag;
    }
};

std::vector<uint8_t>
random_bytes(size_t n)
{
    std::vector<uint8_t> out(n);
    std::mt19937 rng(static_cast<unsigned>(n));
    for (auto& b : out) {
        b = static_cast<uint8_t>(rng());
    }
    return out;
}

/// `data` in three uneven buffers, as a chunk held in pooled segments comes.
void
put_in_three(Store& store, const std::string& key, const std::vector<uint8_t>& data)
{
    const size_t a = data.size() / 5;
    const size_t b = data.size() / 2;
    const std::span<const uint8_t> all(data);
    const std::span<const uint8_t> parts[] = { all.subspan(0, a), all.subspan(a, b - a),
                                               all.subspan(b) };
    store.put_parts(key, parts);
}

bool
multipart_etag(const std::string& etag)
{
    return etag.find('-') != std::string::npos;
}

TEST_F(S3Store, WholeObjectUpToTheThresholdIsOnePutObject)
{
    const auto c = config();
    auto store = open_store(c, false);
    const auto data = random_bytes(s3::kMaxSinglePut);
    put_in_three(*store, "0/0/0", data);
    const auto back = store->get("0/0/0");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, std::string(data.begin(), data.end()));
    const std::string tag = etag(c, "0/0/0");
    EXPECT_FALSE(multipart_etag(tag)) << "ETag " << tag;
}

TEST_F(S3Store, WholeObjectPastTheThresholdIsAMultipartUpload)
{
    const auto c = config();
    auto store = open_store(c, false);
    const auto data = random_bytes(s3::kMaxSinglePut + 1);
    put_in_three(*store, "0/0/1", data);
    const auto back = store->get("0/0/1");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, std::string(data.begin(), data.end()));
    const std::string tag = etag(c, "0/0/1");
    const size_t parts = (data.size() + c.part_size - 1) / c.part_size;
    EXPECT_NE(tag.find("-" + std::to_string(parts)), std::string::npos) << "ETag " << tag;
}

TEST_F(S3Store, ShardWrittenAsItFillsStreamsAsAMultipartUpload)
{
    const auto c = config();
    auto store = open_store(c, false);
    const auto data = random_bytes(c.part_size + (1 << 20));
    auto sink = store->open_sink("c/0");
    const size_t half = data.size() / 2;
    sink->write(0, data.data(), half);
    sink->write(half, data.data() + half, data.size() - half);
    sink->finalize();
    const auto back = store->get("c/0");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, std::string(data.begin(), data.end()));
    EXPECT_TRUE(multipart_etag(etag(c, "c/0")));
}

TEST_F(S3Store, VirtualHostAddressingWritesUnderTheBucketNamedInTheHost)
{
    const auto c = config(true);
    auto store = open_store(c, true);
    const auto small = random_bytes(1000);
    const auto large = random_bytes(c.part_size + 1000);
    put_in_three(*store, "a", small);
    auto sink = store->open_sink("b"); // several parts
    sink->write(0, large.data(), large.size());
    sink->finalize();
    store->put_atomic("zarr.json", "{}");
    EXPECT_EQ(store->get("a"), std::string(small.begin(), small.end()));
    EXPECT_EQ(store->get("b"), std::string(large.begin(), large.end()));
    EXPECT_TRUE(store->exists("zarr.json"));
    EXPECT_FALSE(store->exists("missing"));
    // Path-style requests find the objects in the bucket, under the prefix:
    // the server took the bucket from the host name, not from the path.
    EXPECT_FALSE(multipart_etag(etag(c, "a")));
    EXPECT_TRUE(multipart_etag(etag(c, "b")));
    store->clear();
    EXPECT_FALSE(store->exists("a"));
}

TEST_F(S3Store, VirtualHostAddressingNamesAMissingBucket)
{
    auto c = config(true);
    c.bucket = "no-such-bucket-" + std::to_string(::getpid());
    try {
        open_store(c, false);
        FAIL() << "opened a store in a missing bucket";
    } catch (const zarr::Error& e) {
        EXPECT_EQ(e.code(), ZarrStatusCode_InvalidSettings);
        EXPECT_NE(std::string(e.what()).find("'" + c.bucket + "'"), std::string::npos)
          << e.what();
    }
}

} // namespace
