#include "stream/settings.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>

using zarr::Error;
using zarr::plan_stream;

namespace {

/// Stores an int in an enum field, as a C caller may do with any value
/// (reading an out-of-range enum through its type would be undefined).
template<typename E>
void
set_raw(E& field, int value)
{
    static_assert(sizeof(E) == sizeof(int));
    std::memcpy(&field, &value, sizeof(value));
}

struct Fixture
{
    ZarrDimensionProperties dims[3] = {
        { "t", ZarrDimensionType_Time, 0, 2, 0, nullptr, 0.0 },
        { "y", ZarrDimensionType_Space, 8, 4, 1, "micrometer", 0.5 },
        { "x", ZarrDimensionType_Space, 8, 4, 1, nullptr, 0.0 },
    };
    ZarrCompressionSettings compression{ ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscLZ4, 1, 1 };
    ZarrStreamSettings s{};
    Fixture()
    {
        s.store_path = "store.zarr";
        s.dimensions = dims;
        s.dimension_count = 3;
        s.data_type = ZarrDataType_uint16;
        s.version = ZarrVersion_3;
    }
};

std::string
refusal(const std::function<void(Fixture&)>& mutate, ZarrStatusCode* code = nullptr)
{
    Fixture f;
    mutate(f);
    try {
        plan_stream(&f.s);
    } catch (const Error& e) {
        if (code) {
            *code = e.code();
        }
        return e.what();
    }
    return "(accepted)";
}

} // namespace

TEST(Settings, OutputKeyLosesEmptySegmentsAndRefusesReservedOnes)
{
    EXPECT_EQ(zarr::normalize_output_key(""), "");
    EXPECT_EQ(zarr::normalize_output_key("/a//b/"), "a/b");
    EXPECT_EQ(zarr::normalize_output_key("a/b/c"), "a/b/c");
    for (const char* bad : { "..", "a/../b", ".", "a/./b", "__x", "a/__meta", "zarr.json",
                             "a/.zarray", ".zgroup", ".zattrs" }) {
        EXPECT_THROW(zarr::normalize_output_key(bad), Error) << bad;
    }
}

struct Refusal
{
    const char* what;
    std::function<void(Fixture&)> mutate;
    const char* expected; // a piece of the message
};

class SettingsRefusal : public testing::TestWithParam<Refusal>
{};

TEST_P(SettingsRefusal, NamesTheFieldAndValue)
{
    const auto& p = GetParam();
    const std::string message = refusal(p.mutate);
    EXPECT_NE(message.find(p.expected), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
  Cases,
  SettingsRefusal,
  testing::Values(
    Refusal{ "null store", [](Fixture& f) { f.s.store_path = nullptr; }, "store_path is NULL" },
    Refusal{ "empty store", [](Fixture& f) { f.s.store_path = ""; }, "store_path '' is empty" },
    Refusal{ "file url only", [](Fixture& f) { f.s.store_path = "file://"; }, "store_path 'file://' is empty" },
    Refusal{ "two dims", [](Fixture& f) { f.s.dimension_count = 2; }, "dimension_count is 2" },
    Refusal{ "null dims", [](Fixture& f) { f.s.dimensions = nullptr; }, "dimensions is NULL" },
    Refusal{ "null name", [](Fixture& f) { f.dims[1].name = nullptr; }, "dimensions[1].name is NULL" },
    Refusal{ "empty name", [](Fixture& f) { f.dims[2].name = ""; }, "dimensions[2].name is ''" },
    Refusal{ "duplicate", [](Fixture& f) { f.dims[2].name = "y"; }, "dimensions[2].name 'y' is used" },
    Refusal{ "zero chunk", [](Fixture& f) { f.dims[0].chunk_size_px = 0; }, "dimensions[0].chunk_size_px is 0" },
    Refusal{ "zero size", [](Fixture& f) { f.dims[2].array_size_px = 0; }, "dimensions[2].array_size_px is 0" },
    Refusal{ "dim type", [](Fixture& f) { set_raw(f.dims[0].type, 8); }, "dimensions[0].type is 8" },
    Refusal{ "bad scale", [](Fixture& f) { f.dims[1].scale = -1; }, "dimensions[1].scale is -1" },
    Refusal{ "data type", [](Fixture& f) { set_raw(f.s.data_type, 10); }, "data_type is 10" },
    Refusal{ "version", [](Fixture& f) { set_raw(f.s.version, 1); }, "version is 1" },
    Refusal{ "method", [](Fixture& f) { set_raw(f.s.downsampling_method, 4); }, "downsampling_method is 4" },
    Refusal{ "compressor", [](Fixture& f) { set_raw(f.compression.compressor, 3); f.s.compression_settings = &f.compression; }, "compression_settings.compressor is 3" },
    Refusal{ "codec", [](Fixture& f) { set_raw(f.compression.codec, 6); f.s.compression_settings = &f.compression; }, "compression_settings.codec is 6" },
    Refusal{ "no codec", [](Fixture& f) { f.compression.codec = ZarrCompressionCodec_None; f.s.compression_settings = &f.compression; }, "compression_settings.codec is None" },
    Refusal{ "no compressor", [](Fixture& f) { f.compression.compressor = ZarrCompressor_None; f.s.compression_settings = &f.compression; }, "compression_settings.compressor is None" },
    Refusal{ "level", [](Fixture& f) { f.compression.level = 10; f.s.compression_settings = &f.compression; }, "compression_settings.level is 10" },
    Refusal{ "shuffle", [](Fixture& f) { f.compression.shuffle = 3; f.s.compression_settings = &f.compression; }, "compression_settings.shuffle is 3" },
    Refusal{ "huge chunk", [](Fixture& f) { f.dims[0].chunk_size_px = 100000; f.dims[1].array_size_px = 4096; f.dims[1].chunk_size_px = 4096; }, "limit" },
    Refusal{ "many chunks", [](Fixture& f) { f.dims[1].array_size_px = 1u << 20; f.dims[1].chunk_size_px = 1; f.dims[2].array_size_px = 1u << 20; f.dims[2].chunk_size_px = 1; }, "open at once" },
    Refusal{ "custom not object", [](Fixture& f) { f.s.custom_metadata = "42"; }, "custom_metadata '42' is not a JSON object" },
    Refusal{ "custom ome", [](Fixture& f) { f.s.custom_metadata = "{\"ome\": 1}"; }, "'ome'" },
    Refusal{ "output key", [](Fixture& f) { f.s.output_key = "a/../b"; }, "output_key 'a/../b'" }),
  [](const testing::TestParamInfo<Refusal>& param_info) {
      std::string name = param_info.param.what;
      for (auto& c : name) {
          if (!isalnum(static_cast<unsigned char>(c))) {
              c = '_';
          }
      }
      return name;
  });

TEST(Settings, NullSettingsIsInvalidArgument)
{
    try {
        plan_stream(nullptr);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ZarrStatusCode_InvalidArgument);
    }
}

TEST(Settings, S3PrefixLosesEmptySegmentsAndRegionDefaultsToUsEast1)
{
    ZarrS3Settings s3{ "localhost:9000", "my-bucket", nullptr };
    Fixture f;
    f.s.s3_settings = &s3;
    f.s.store_path = "/exp//run.zarr/";
    const auto plan = plan_stream(&f.s);
    const auto* config = std::get_if<zarr::storage::S3StoreConfig>(&plan.store);
    ASSERT_NE(config, nullptr);
    EXPECT_EQ(config->prefix, "exp/run.zarr");
    EXPECT_EQ(config->region, "us-east-1");
    EXPECT_EQ(config->bucket, "my-bucket");
    EXPECT_EQ(zarr::storage::location(plan.store), "s3://my-bucket/exp/run.zarr");
    EXPECT_EQ(zarr::storage::name(plan.store), "run.zarr");
}

TEST(Settings, BadS3SettingsAreInvalidSettingsNamingFieldAndValue)
{
    const std::string long_prefix = "/" + std::string(450, 'a') + "//" + std::string(450, 'b');
    const struct
    {
        ZarrS3Settings s3;
        const char* store_path;
        const char* expected;
    } cases[] = {
        { { nullptr, "bucket", nullptr }, "p", "s3_settings.endpoint is NULL" },
        { { "gopher://h", "bucket", nullptr }, "p", "s3_settings.endpoint 'gopher://h'" },
        { { "http://h:0", "bucket", nullptr }, "p", "invalid port" },
        { { "http://user@h", "bucket", nullptr }, "p", "no path, query or user" },
        { { "h", nullptr, nullptr }, "p", "s3_settings.bucket_name is NULL" },
        { { "h", "a", nullptr }, "p", "s3_settings.bucket_name is 'a'" },
        { { "h", "bucket.", nullptr }, "p", "s3_settings.bucket_name is 'bucket.'" },
        { { "h", "bucket", "EU_WEST" }, "p", "s3_settings.region is 'EU_WEST'" },
        { { "h", "bucket", nullptr }, "", "store_path '' is empty" },
        { { "h", "bucket", nullptr }, "///", "store_path '///' is empty" },
        { { "h", "bucket", nullptr }, "a/../../b", "'..' are not allowed" },
        { { "h", "bucket", nullptr }, "a/\x01", "control characters" },
        { { "h", "bucket", nullptr }, long_prefix.c_str(), "store_path is 901 characters long" },
    };
    for (const auto& c : cases) {
        ZarrStatusCode code = ZarrStatusCode_Success;
        ZarrS3Settings s3 = c.s3;
        const std::string message = refusal(
          [&](Fixture& f) {
              f.s.s3_settings = &s3;
              f.s.store_path = c.store_path;
          },
          &code);
        EXPECT_NE(message.find(c.expected), std::string::npos)
          << "expected '" << c.expected << "' in: " << message;
        EXPECT_EQ(code, ZarrStatusCode_InvalidSettings) << message;
    }
}

TEST(Settings, UnsetFieldsMeanV3OneThreadPerCoreScaleOneUnshardedUncompressed)
{
    Fixture f;
    set_raw(f.s.version, 0);
    const auto plan = plan_stream(&f.s);
    EXPECT_EQ(plan.arrays[0].levels[0].version, ZarrVersion_3);
    EXPECT_EQ(plan.max_threads, std::max(1u, std::thread::hardware_concurrency()));
    EXPECT_EQ(plan.arrays[0].levels[0].dims[0].shard_chunks, 1u);
    EXPECT_EQ(plan.arrays[0].levels[0].dims[0].scale, 1.0);
    EXPECT_EQ(plan.arrays[0].levels[0].dims[1].scale, 0.5);
    EXPECT_EQ(plan.arrays[0].levels[0].dims[1].unit, "micrometer");
    EXPECT_EQ(plan.arrays[0].levels[0].key, "0");
    EXPECT_EQ(plan.arrays[0].levels.size(), 1u);
    EXPECT_FALSE(plan.arrays[0].levels[0].codecs.compresses());
}

TEST(Settings, RelativeFileUrlStorePathBecomesAnAbsoluteDirectory)
{
    Fixture f;
    f.s.store_path = "file://relative/store.zarr/";
    const auto plan = plan_stream(&f.s);
    const auto* config = std::get_if<zarr::storage::FilesystemStoreConfig>(&plan.store);
    ASSERT_NE(config, nullptr);
    EXPECT_TRUE(config->root.ends_with("/relative/store.zarr")) << config->root;
    EXPECT_EQ(config->root.front(), '/');
    EXPECT_EQ(zarr::storage::name(plan.store), "store.zarr");
}

TEST(Settings, ArrayKeyIsOutputKeyAndLevelKeysFollowItWhenMultiscale)
{
    Fixture f;
    f.s.output_key = "/a//b/";
    EXPECT_EQ(plan_stream(&f.s).arrays[0].levels[0].key, "a/b");
    f.s.multiscale = true;
    f.dims[1].array_size_px = 64;
    f.dims[2].array_size_px = 64;
    const auto plan = plan_stream(&f.s);
    EXPECT_EQ(plan.arrays[0].levels[0].key, "a/b/0");
    ASSERT_EQ(plan.arrays[0].levels.size(), 5u); // 64 -> 32 -> 16 -> 8 -> 4 (= chunk)
    EXPECT_EQ(plan.arrays[0].levels[4].key, "a/b/4");
    EXPECT_EQ(plan.arrays[0].levels[4].dims[1].size, 4u);
    EXPECT_EQ(plan.arrays[0].levels[4].dims[1].scale, 0.5 * 16);
}

TEST(Settings, VirtualHostAddressingPutsTheBucketInTheHostName)
{
    ZarrS3Settings s3{ "https://s3.example.org", "my-bucket", nullptr };
    Fixture f;
    f.s.s3_settings = &s3;
    EXPECT_FALSE(std::get<zarr::storage::S3StoreConfig>(plan_stream(&f.s).store).virtual_host);
    f.s.s3_addressing_style = ZarrS3AddressingStyle_VirtualHost;
    EXPECT_TRUE(std::get<zarr::storage::S3StoreConfig>(plan_stream(&f.s).store).virtual_host);
}

TEST(Settings, VirtualHostAddressingRefusesWhatCannotBeAHostNameNamingFieldAndValue)
{
    const struct
    {
        const char* endpoint;
        const char* bucket;
        int style;
        const char* expected;
    } cases[] = {
        { "http://h", "my.bucket", 1, "s3_settings.bucket_name 'my.bucket' cannot go in a host name" },
        { "http://h", "my_bucket", 1, "s3_settings.bucket_name 'my_bucket' cannot go in a host name" },
        { "http://h", "My-Bucket", 1, "s3_settings.bucket_name is 'My-Bucket'" },
        { "http://127.0.0.1:9000", "b-1", 1, "s3_settings.endpoint 'http://127.0.0.1:9000' is an IP address" },
        { "10.0.0.7", "b-1", 1, "s3_settings.endpoint '10.0.0.7' is an IP address" },
        { "http://[::1]:9000", "b-1", 1, "s3_settings.endpoint 'http://[::1]:9000' is an IP address" },
        { "http://h", "b-1", 2, "s3_addressing_style is 2" },
        { "http://h", "b-1", -1, "s3_addressing_style is -1" },
    };
    for (const auto& c : cases) {
        ZarrStatusCode code = ZarrStatusCode_Success;
        ZarrS3Settings s3{ c.endpoint, c.bucket, nullptr };
        const std::string message = refusal(
          [&](Fixture& f) {
              f.s.s3_settings = &s3;
              set_raw(f.s.s3_addressing_style, c.style);
          },
          &code);
        EXPECT_NE(message.find(c.expected), std::string::npos)
          << "expected '" << c.expected << "' in: " << message;
        EXPECT_EQ(code, ZarrStatusCode_InvalidSettings) << message;
    }
}
