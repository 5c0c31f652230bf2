// Chunks compressed plane by plane (ArrayWriter with codec::BloscPlanes),
// with many more threads than compute slots and small budgets, so that the
// tasks of one chunk are spread over workers and must keep their order: every
// chunk decodes (c-blosc) to the frames given, ragged edges and padding at
// close included; a storage failure is recorded once and nothing hangs.
// Run under ThreadSanitizer by `make test-sanitize`.
#include "codec/blosc_codec.hh"
#include "recorded_error.hh"
#include "storage/store.hh"
#include "temp_dir.hh"
#include "util/error.hh"
#include "util/thread_pool.hh"
#include "zarr/array_writer.hh"

#include <blosc.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <vector>

namespace fs = std::filesystem;
using namespace zarr;

namespace {

constexpr uint64_t kHeight = 150; // 64-pixel chunks: ragged in y and x
constexpr uint64_t kWidth = 130;
constexpr uint64_t kChunkYX = 64;

/// Frames per chunk and frames streamed. Short chunks fit in one segment of
/// encoded bytes; tall ones (about 400 KiB compressed) take several, with
/// planes compressed in place and planes copied across segment ends.
struct Layout
{
    uint64_t chunk_t;
    int frames; // the last t-chunk is never full
};
constexpr Layout kShort{ 6, 15 };
constexpr Layout kTall{ 96, 150 };

ArraySpec
spec(ZarrVersion version, int shuffle, uint64_t chunk_t)
{
    ArraySpec s;
    s.key = "0";
    s.version = version;
    s.dtype = ZarrDataType_uint16;
    s.dims = { { "t", ZarrDimensionType_Time, 0, chunk_t, 1, "", 1.0 },
               { "y", ZarrDimensionType_Space, kHeight, kChunkYX, 2, "", 1.0 },
               { "x", ZarrDimensionType_Space, kWidth, kChunkYX, 2, "", 1.0 } };
    s.codecs = codec::CodecChain(std::make_shared<codec::BloscChunkCodec>(
      codec::BloscParams{ codec::BloscCodec::lz4, 1, shuffle, 2 }));
    return s;
}

/// Frame `t`: smooth for even t, random for odd t (incompressible).
std::vector<uint16_t>
frame(int t)
{
    std::vector<uint16_t> f(kHeight * kWidth);
    std::mt19937 rng(static_cast<unsigned>(t));
    for (uint64_t y = 0; y < kHeight; ++y) {
        for (uint64_t x = 0; x < kWidth; ++x) {
            f[y * kWidth + x] = t % 2 == 0 ? static_cast<uint16_t>(t * 1000 + y * 3 + x)
                                           : static_cast<uint16_t>(rng());
        }
    }
    return f;
}

/// What chunk (ct, cy, cx) must hold: zeros past the array's edges.
std::vector<uint16_t>
expected_chunk(const std::vector<std::vector<uint16_t>>& frames,
               uint64_t chunk_t,
               uint64_t ct,
               uint64_t cy,
               uint64_t cx)
{
    std::vector<uint16_t> c(chunk_t * kChunkYX * kChunkYX, 0);
    for (uint64_t t = 0; t < chunk_t; ++t) {
        const uint64_t ft = ct * chunk_t + t;
        for (uint64_t y = 0; y < kChunkYX; ++y) {
            for (uint64_t x = 0; x < kChunkYX; ++x) {
                const uint64_t fy = cy * kChunkYX + y;
                const uint64_t fx = cx * kChunkYX + x;
                if (ft < frames.size() && fy < kHeight && fx < kWidth) {
                    c[(t * kChunkYX + y) * kChunkYX + x] = frames[ft][fy * kWidth + fx];
                }
            }
        }
    }
    return c;
}

std::vector<uint16_t>
decode(const std::string& bytes)
{
    size_t nbytes = 0;
    EXPECT_EQ(blosc_cbuffer_validate(bytes.data(), bytes.size(), &nbytes), 0);
    std::vector<uint16_t> out(nbytes / 2);
    EXPECT_EQ(blosc_decompress_ctx(bytes.data(), out.data(), nbytes, 1),
              static_cast<int>(nbytes));
    return out;
}

std::string
slurp(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

uint64_t
le64(const std::string& s, size_t at)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = v << 8 | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
    }
    return v;
}

/// A filesystem store whose writes of chunk data fail from the `fail_at`-th
/// on, as a full or vanished disk would.
class FailingStore : public storage::Store
{
  public:
    FailingStore(std::unique_ptr<storage::Store> inner, int fail_at)
      : inner_(std::move(inner))
      , fail_at_(fail_at)
    {
    }

    std::unique_ptr<storage::Sink> open_sink(const std::string& key) override
    {
        struct FailingSink : storage::Sink
        {
            FailingSink(std::unique_ptr<storage::Sink> s, FailingStore& owner)
              : inner(std::move(s))
              , store(owner)
            {
            }
            void write(uint64_t offset, const uint8_t* data, size_t n) override
            {
                store.count_write();
                inner->write(offset, data, n);
            }
            void finalize() override { inner->finalize(); }
            std::unique_ptr<storage::Sink> inner;
            FailingStore& store;
        };
        return std::make_unique<FailingSink>(inner_->open_sink(key), *this);
    }
    void put_atomic(const std::string& key, std::string_view data) override
    {
        inner_->put_atomic(key, data);
    }
    std::optional<std::string> get(const std::string& key) override
    {
        return inner_->get(key);
    }
    bool exists(const std::string& key) override { return inner_->exists(key); }
    // As the filesystem: v3's small chunks are packed (and those writes fail).
    bool writes_in_place() const noexcept override { return inner_->writes_in_place(); }
    void clear() override { inner_->clear(); }
    void erase_node(const std::string& key) override { inner_->erase_node(key); }
    void sync() override { inner_->sync(); }
    std::string describe(const std::string& key) const override
    {
        return inner_->describe(key);
    }

    void count_write()
    {
        if (++writes_ >= fail_at_) {
            fail(ZarrStatusCode_IOError, "injected write failure number ",
                 writes_.load() - fail_at_ + 1);
        }
    }

  private:
    std::unique_ptr<storage::Store> inner_;
    const int fail_at_;
    std::atomic<int> writes_{ 0 };
};

class PlaneChunks
  : public test::TempDirTest<test::TempDir::Start::absent,
                             testing::TestWithParam<std::tuple<ZarrVersion, int, Layout>>>
{
  protected:
    void SetUp() override
    {
        const Layout& layout = std::get<2>(GetParam());
        for (int t = 0; t < layout.frames; ++t) {
            frames_.push_back(frame(t));
        }
    }

    /// Streams every frame through a pool of 8 threads of which 2 compress
    /// and 2 more write, with budgets of a few planes.
    void stream(storage::Store& store, FirstError& errors)
    {
        const auto [version, shuffle, layout] = GetParam();
        ThreadPool pool(8, 16, 32 << 10, errors, 2, 2, 64 << 10);
        ArrayWriter writer(spec(version, shuffle, layout.chunk_t), store, pool, errors);
        EXPECT_TRUE(writer.compresses_planes());
        for (const auto& f : frames_) {
            writer.append_frame(reinterpret_cast<const uint8_t*>(f.data()));
        }
        writer.flush();
        pool.wait_idle();
        if (!errors.failed()) {
            writer.finalize_shards();
        }
    }

    /// Every chunk of the array "0" under `root` decodes to `frames`.
    void expect_chunks(const fs::path& root, const std::vector<std::vector<uint16_t>>& frames)
    {
        const uint64_t chunk_t = std::get<2>(GetParam()).chunk_t;
        const uint64_t chunks_t = (frames.size() + chunk_t - 1) / chunk_t;
        const uint64_t chunks_y = (kHeight + kChunkYX - 1) / kChunkYX;
        const uint64_t chunks_x = (kWidth + kChunkYX - 1) / kChunkYX;
        for (uint64_t ct = 0; ct < chunks_t; ++ct) {
            for (uint64_t cy = 0; cy < chunks_y; ++cy) {
                for (uint64_t cx = 0; cx < chunks_x; ++cx) {
                    std::string bytes;
                    if (std::get<0>(GetParam()) == ZarrVersion_2) {
                        bytes = slurp(root / "0" / std::to_string(ct) / std::to_string(cy) /
                                      std::to_string(cx));
                    } else {
                        // Shards of 1x2x2 chunks; the index ends the shard.
                        const std::string shard =
                          slurp(root / "0" / "c" / std::to_string(ct) /
                                std::to_string(cy / 2) / std::to_string(cx / 2));
                        const size_t i = (cy % 2) * 2 + cx % 2;
                        const size_t index_at = shard.size() - (16 * 4 + 4);
                        const uint64_t offset = le64(shard, index_at + 16 * i);
                        const uint64_t n = le64(shard, index_at + 16 * i + 8);
                        ASSERT_LE(offset + n, index_at);
                        bytes = shard.substr(offset, n);
                    }
                    EXPECT_EQ(decode(bytes), expected_chunk(frames, chunk_t, ct, cy, cx))
                      << root << ": chunk " << ct << "/" << cy << "/" << cx;
                }
            }
        }
    }

    std::vector<std::vector<uint16_t>> frames_;
};

} // namespace

TEST_P(PlaneChunks, EveryChunkDecodesToItsFrames)
{
    auto store = storage::make_filesystem_store(root_.string());
    FirstError errors;
    stream(*store, errors);
    ASSERT_FALSE(errors.failed());
    expect_chunks(root_, frames_);
}

TEST_P(PlaneChunks, TwoArraysSharingStagingBuffersAndThePoolEachDecodeToTheirFrames)
{
    // As the arrays of one stream: one pool, one StagingPools, an IoShare
    // each, frames appended in turn (the second array gets them reversed).
    const auto [version, shuffle, layout] = GetParam();
    auto store_a = storage::make_filesystem_store((root_ / "a").string());
    auto store_b = storage::make_filesystem_store((root_ / "b").string());
    FirstError errors;
    ThreadPool pool(8, 16, 32 << 10, errors, 2, 2, 64 << 10);
    StagingPools staging;
    IoShare share_a;
    IoShare share_b;
    const ArraySpec s = spec(version, shuffle, layout.chunk_t);
    ArrayWriter a(s, *store_a, pool, errors, ArrayWriter::plane_plan(s), &share_a, &staging);
    ArrayWriter b(s, *store_b, pool, errors, ArrayWriter::plane_plan(s), &share_b, &staging);
    const std::vector<std::vector<uint16_t>> reversed(frames_.rbegin(), frames_.rend());
    for (size_t t = 0; t < frames_.size(); ++t) {
        a.append_frame(reinterpret_cast<const uint8_t*>(frames_[t].data()));
        b.append_frame(reinterpret_cast<const uint8_t*>(reversed[t].data()));
    }
    a.flush();
    b.flush();
    pool.wait_idle();
    ASSERT_FALSE(errors.failed());
    a.finalize_shards();
    b.finalize_shards();
    expect_chunks(root_ / "a", frames_);
    expect_chunks(root_ / "b", reversed);
}

TEST_P(PlaneChunks, StorageFailureIsRecordedOnceAndNothingHangs)
{
    FailingStore store(storage::make_filesystem_store(root_.string()), 3);
    FirstError errors;
    stream(store, errors); // returns: tasks waiting on a failed chunk ran on
    ASSERT_TRUE(errors.failed());
    const Error e = test::recorded_error(errors);
    EXPECT_EQ(e.code(), ZarrStatusCode_IOError);
    // Whichever of the I/O threads' failures was recorded first.
    EXPECT_NE(std::string(e.what()).find("injected write failure number"), std::string::npos)
      << e.what();
}

INSTANTIATE_TEST_SUITE_P(
  VersionsShufflesAndChunkHeights,
  PlaneChunks,
  testing::Combine(testing::Values(ZarrVersion_2, ZarrVersion_3),
                   testing::Values(0, 1, 2),
                   testing::Values(kShort, kTall)),
  [](const testing::TestParamInfo<std::tuple<ZarrVersion, int, Layout>>& p) {
      return std::string(std::get<0>(p.param) == ZarrVersion_2 ? "v2" : "v3") +
             "_shuffle" + std::to_string(std::get<1>(p.param)) + "_t" +
             std::to_string(std::get<2>(p.param).chunk_t);
  });

// Uncompressed chunks written plane by plane in place (the same frames, pool
// and budgets): every v3 chunk lies at its rank in its shard, every v2 chunk
// is a whole file, and each holds its frames, zeros past the edges included.
TEST(RawPlaneChunks, EveryChunkHoldsItsFramesInPlace)
{
    const std::pair<ZarrVersion, Layout> cases[] = { { ZarrVersion_3, kShort },
                                                     { ZarrVersion_3, kTall },
                                                     { ZarrVersion_2, kShort },
                                                     { ZarrVersion_2, kTall } };
    for (const auto& [version, layout] : cases) {
        const test::TempDir dir(test::TempDir::Start::absent,
                                "-v" + std::to_string(static_cast<int>(version)) + "-" +
                                  std::to_string(layout.chunk_t));
        const fs::path& root = dir.path();
        std::vector<std::vector<uint16_t>> frames;
        for (int t = 0; t < layout.frames; ++t) {
            frames.push_back(frame(t));
        }
        auto store = storage::make_filesystem_store(root.string());
        FirstError errors;
        {
            ThreadPool pool(8, 16, 32 << 10, errors, 2, 2, 64 << 10);
            ArraySpec s = spec(version, 0, layout.chunk_t);
            s.codecs = {};
            ArrayWriter writer(s, *store, pool, errors);
            EXPECT_TRUE(writer.writes_planes());
            for (const auto& f : frames) {
                writer.append_frame(reinterpret_cast<const uint8_t*>(f.data()));
            }
            writer.flush();
            pool.wait_idle();
            ASSERT_FALSE(errors.failed());
            writer.finalize_shards();
        }
        const uint64_t chunk_bytes = layout.chunk_t * kChunkYX * kChunkYX * 2;
        const uint64_t chunks_t = (frames.size() + layout.chunk_t - 1) / layout.chunk_t;
        for (uint64_t ct = 0; ct < chunks_t; ++ct) {
            for (uint64_t cy = 0; cy < 3; ++cy) {
                for (uint64_t cx = 0; cx < 3; ++cx) {
                    std::string bytes;
                    if (version == ZarrVersion_2) {
                        // A whole file per chunk, the last t-chunk's
                        // missing planes zeros.
                        bytes = slurp(root / "0" / std::to_string(ct) / std::to_string(cy) /
                                      std::to_string(cx));
                        ASSERT_EQ(bytes.size(), chunk_bytes);
                    } else {
                        // Shards of 1x2x2 chunks; the last shard row and
                        // column hold one chunk across.
                        const std::string shard =
                          slurp(root / "0" / "c" / std::to_string(ct) /
                                std::to_string(cy / 2) / std::to_string(cx / 2));
                        const uint64_t across = cx / 2 == 1 ? 1 : 2;
                        const uint64_t rank = (cy % 2) * across + cx % 2;
                        const size_t i = (cy % 2) * 2 + cx % 2;
                        const size_t index_at = shard.size() - (16 * 4 + 4);
                        ASSERT_EQ(le64(shard, index_at + 16 * i), rank * chunk_bytes);
                        ASSERT_EQ(le64(shard, index_at + 16 * i + 8), chunk_bytes);
                        bytes = shard.substr(rank * chunk_bytes, chunk_bytes);
                    }
                    std::vector<uint16_t> chunk(chunk_bytes / 2);
                    std::memcpy(chunk.data(), bytes.data(), chunk_bytes);
                    EXPECT_EQ(chunk, expected_chunk(frames, layout.chunk_t, ct, cy, cx))
                      << "v" << version << " chunk " << ct << "/" << cy << "/" << cx;
                }
            }
        }
    }
}

TEST(StagingPools, WritersOfOneFrameSizeShareAPoolPrefilledForAllOfThem)
{
    StagingPools pools;
    const auto first = pools.want(1 << 20, 3, 2);
    EXPECT_EQ(first.own, 5u); // its frames in flight and the one staged
    const auto second = pools.want(1 << 20, 3, 2);
    EXPECT_EQ(second.pool, first.pool);
    EXPECT_EQ(second.own, 3u); // one appending thread: staged counts once
    const auto other = pools.want(2 << 20, 3, 2);
    EXPECT_NE(other.pool, first.pool);
    EXPECT_EQ(other.own, 5u);

    // Each prefills its own part within its allowance, on top of the
    // others'.
    EXPECT_EQ(prefill_share(first, 64 << 20, 100), uint64_t{ 5 } << 20);
    EXPECT_EQ(first.pool->live_buffers(), 5u);
    EXPECT_EQ(prefill_share(second, 2 << 20, 100), uint64_t{ 2 } << 20); // 2 of its 3
    EXPECT_EQ(first.pool->live_buffers(), 7u);
    EXPECT_EQ(other.pool->live_buffers(), 0u);
    // Never beyond what the stream's budget lets be in flight.
    const auto third = pools.want(1 << 20, 3, 2);
    EXPECT_EQ(prefill_share(third, 64 << 20, 8), uint64_t{ 1 } << 20);
    EXPECT_EQ(first.pool->live_buffers(), 8u);
}
