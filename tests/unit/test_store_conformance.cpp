// The Store contract, checked the same way against every store opened by
// open_store: the filesystem always, and S3 when ACQUIRE_ZARR_TEST_S3_ENDPOINT
// names a server (ctest runs that through tests/s3/s3server.py, which starts
// SeaweedFS with signature checking and sets the credentials).
#include "storage/open_store.hh"
#include "temp_dir.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <numeric>
#include <random>
#include <span>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using zarr::storage::Store;
using zarr::storage::StoreConfig;

namespace {

std::string
env(const char* name)
{
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string
unique_name()
{
    static int counter = 0;
    return zarr::test::unique_test_name("-" + std::to_string(counter++));
}

/// A whole object in one write, as metadata and v2 chunk files go.
void
put(Store& store, const std::string& key, const std::vector<uint8_t>& data)
{
    const std::span<const uint8_t> part(data);
    store.put_parts(key, std::span(&part, 1));
}

/// Configs of one kind of store, each at a fresh location (a directory, or
/// a key prefix in the test bucket).
struct Backend
{
    std::string name;
    std::function<StoreConfig(const std::string& where)> config;
    std::string base; // where fresh locations go
};

std::vector<Backend>
backends()
{
    std::vector<Backend> out;
    const fs::path tmp = fs::temp_directory_path();
    out.push_back({ "Filesystem",
                    [tmp](const std::string& where) {
                        return StoreConfig(
                          zarr::storage::FilesystemStoreConfig{ (tmp / where).string() });
                    },
                    tmp.string() });
    if (!env("ACQUIRE_ZARR_TEST_S3_ENDPOINT").empty()) {
        out.push_back({ "S3",
                        [](const std::string& where) {
                            zarr::storage::S3StoreConfig c;
                            c.endpoint = env("ACQUIRE_ZARR_TEST_S3_ENDPOINT");
                            c.bucket = env("ACQUIRE_ZARR_TEST_S3_BUCKET");
                            c.region = env("ACQUIRE_ZARR_TEST_S3_REGION");
                            c.prefix = where;
                            c.part_size = 5u << 20;
                            return StoreConfig(c);
                        },
                        "" });
    }
    return out;
}

class StoreConformance : public testing::TestWithParam<Backend>
{
  protected:
    void SetUp() override { where_ = unique_name(); }
    void TearDown() override
    {
        if (GetParam().name == "Filesystem") {
            fs::remove_all(fs::path(GetParam().base) / where_);
            fs::remove_all(fs::path(GetParam().base) / (where_ + "-sibling"));
        }
    }
    /// A store at a fresh location; `suffix` makes one beside it.
    std::unique_ptr<Store> make(const std::string& suffix = "")
    {
        return zarr::storage::open_store(GetParam().config(where_ + suffix), false);
    }
    static std::vector<uint8_t> pattern(size_t n, uint32_t seed)
    {
        std::vector<uint8_t> v(n);
        std::mt19937 rng(seed);
        for (auto& b : v) {
            b = static_cast<uint8_t>(rng());
        }
        return v;
    }
    static std::string str(const std::vector<uint8_t>& v) { return { v.begin(), v.end() }; }

    // Larger than several S3 parts, written in shuffled pieces by four threads
    // (the v3 shard writer's pattern): the object must come back byte-exact.
    // `in_parts`: each piece goes in one write_parts() call of three parts (one
    // empty), as a chunk held in segments does.
    void expect_shuffled_pieces_come_back(bool in_parts)
    {
        auto store = make();
        constexpr size_t kPiece = 700 * 1024; // not a divisor of the part size
        constexpr size_t kPieces = 24;        // ~16 MiB: 4 parts of 5 MiB
        const auto data = pattern(kPiece * kPieces + 123, 3);
        std::vector<size_t> order(kPieces + 1);
        std::iota(order.begin(), order.end(), size_t{ 0 });
        std::shuffle(order.begin(), order.end(), std::mt19937(4));

        auto sink = store->open_sink("shard");
        sink->reserve(data.size());
        std::vector<std::thread> threads;
        for (size_t t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (size_t i = t; i < order.size(); i += 4) {
                    const size_t start = order[i] * kPiece;
                    const size_t n = std::min(kPiece, data.size() - start);
                    const uint8_t* at = data.data() + start;
                    if (!in_parts) {
                        sink->write(start, at, n);
                        continue;
                    }
                    const size_t first = n / 3;
                    const std::span<const uint8_t> parts[] = {
                        { at, first }, { at + first, 0 }, { at + first, n - first }
                    };
                    sink->write_parts(start, parts);
                }
            });
        }
        for (auto& th : threads) {
            th.join();
        }
        sink->finalize();
        const auto back = store->get("shard");
        ASSERT_TRUE(back.has_value());
        ASSERT_EQ(back->size(), data.size());
        EXPECT_TRUE(*back == str(data));
    }

    std::string where_;
};

} // namespace

TEST_P(StoreConformance, MissingObjectsAreAbsent)
{
    auto store = make();
    EXPECT_FALSE(store->exists("x/y"));
    EXPECT_FALSE(store->get("x/y").has_value());
}

TEST_P(StoreConformance, WholeObjectReadsBackAsWritten)
{
    auto store = make();
    const auto data = pattern(1000, 1);
    put(*store, "a/b/c", data);
    EXPECT_TRUE(store->exists("a/b/c"));
    EXPECT_EQ(store->get("a/b/c").value(), str(data));
    store->sync();
}

TEST_P(StoreConformance, SinkFinalizedWithoutWritesMakesAnEmptyObject)
{
    auto store = make();
    auto sink = store->open_sink("empty");
    sink->finalize();
    EXPECT_EQ(store->get("empty").value(), "");
}

TEST_P(StoreConformance, PutAtomicReplaces)
{
    auto store = make();
    store->put_atomic("g/zarr.json", "{\"first\": 1, \"long\": \"xxxxxxxxxxxxxxxx\"}");
    store->put_atomic("g/zarr.json", "{\"second\": 2}");
    EXPECT_EQ(store->get("g/zarr.json").value(), "{\"second\": 2}");
}

TEST_P(StoreConformance, SmallSinkWrittenOutOfOrderReadsBackInOrder)
{
    auto store = make();
    auto sink = store->open_sink("s");
    const auto data = pattern(3000, 2);
    sink->write(2000, data.data() + 2000, 1000);
    sink->write(0, data.data(), 1000);
    sink->write(1000, data.data() + 1000, 1000);
    sink->finalize();
    EXPECT_EQ(store->get("s").value(), str(data));
}

TEST_P(StoreConformance, LargeSinkFromSeveralThreadsInAnyOrderReadsBackByteExact)
{
    expect_shuffled_pieces_come_back(false);
}

TEST_P(StoreConformance, LargeSinkWrittenInPartsFromSeveralThreadsReadsBackByteExact)
{
    expect_shuffled_pieces_come_back(true);
}

TEST_P(StoreConformance, WholeObjectLargerThanAPartReadsBackByteExact)
{
    auto store = make();
    const auto data = pattern((11u << 20) + 5, 5);
    put(*store, "big", data);
    EXPECT_TRUE(store->get("big").value() == str(data));
}

TEST_P(StoreConformance, ClearDeletesTheStoreOnly)
{
    auto store = make();
    auto sibling = make("-sibling"); // same leading characters, other store
    store->put_atomic("a/b/c", "x");
    store->put_atomic("top", "y");
    sibling->put_atomic("keep", "z");
    store->clear();
    EXPECT_FALSE(store->exists("a/b/c"));
    EXPECT_FALSE(store->exists("top"));
    EXPECT_EQ(sibling->get("keep").value(), "z");
    store->put_atomic("a/again", "w"); // usable after clear
    EXPECT_EQ(store->get("a/again").value(), "w");
    sibling->clear();
    store->clear();
}

TEST_P(StoreConformance, EraseNodeDeletesThatNodeOnly)
{
    auto store = make();
    store->put_atomic("run/a/zarr.json", "1");
    store->put_atomic("run/a/c/0/0", "2");
    store->put_atomic("run/ab/zarr.json", "3"); // beside it, same leading characters
    store->put_atomic("run/zarr.json", "4");    // its parent
    store->erase_node("run/a");
    EXPECT_FALSE(store->exists("run/a/zarr.json"));
    EXPECT_FALSE(store->exists("run/a/c/0/0"));
    EXPECT_EQ(store->get("run/ab/zarr.json").value(), "3");
    EXPECT_EQ(store->get("run/zarr.json").value(), "4");
    store->erase_node("run/missing"); // nothing there: nothing to do
    store->put_atomic("run/a/zarr.json", "5"); // the node can be written again
    EXPECT_EQ(store->get("run/a/zarr.json").value(), "5");
    store->sync();
    store->clear();
}

TEST_P(StoreConformance, ClearDeletesMoreObjectsThanOneListingHolds)
{
    auto store = make();
    for (int i = 0; i < 1001; ++i) { // more than one S3 listing page / delete batch
        store->put_atomic("k/" + std::to_string(i), "v");
    }
    store->clear();
    EXPECT_FALSE(store->exists("k/0"));
    EXPECT_FALSE(store->exists("k/1000"));
}

TEST_P(StoreConformance, DescribeNamesTheLocation)
{
    auto store = make();
    const std::string d = store->describe("a/zarr.json");
    EXPECT_NE(d.find(where_), std::string::npos) << d;
    EXPECT_NE(d.find("a/zarr.json"), std::string::npos) << d;
}

TEST_P(StoreConformance, LocationOfTheConfigIsWhereKeysLive)
{
    const StoreConfig config = GetParam().config(where_);
    auto store = zarr::storage::open_store(config, false);
    EXPECT_EQ(store->describe("a/zarr.json"),
              zarr::storage::location(config) + "/a/zarr.json");
}

TEST_P(StoreConformance, OpeningWithOverwriteEmptiesTheStoreAndWithoutKeepsIt)
{
    make()->put_atomic("a/kept", "x");
    EXPECT_EQ(make()->get("a/kept").value(), "x");
    auto store = zarr::storage::open_store(GetParam().config(where_), true);
    EXPECT_FALSE(store->exists("a/kept"));
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance, testing::ValuesIn(backends()),
                         [](const testing::TestParamInfo<Backend>& p) {
                             return p.param.name;
                         });
