// 2-D arrays (one bounded frame): an ArrayWriter fills one with a single
// frame and writes 2-D metadata, 2-coordinate keys and chunks a reader
// decodes to the frame (or its transpose); a pyramid of one halves y and x.
#include "storage/store.hh"
#include "temp_dir.hh"
#include "util/error.hh"
#include "util/thread_pool.hh"
#include "zarr/array_writer.hh"
#include "zarr/metadata.hh"
#include "zarr/pyramid.hh"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <vector>

namespace fs = std::filesystem;
using namespace zarr;

namespace {

constexpr uint64_t kH = 7, kW = 9;

ArraySpec
two_d(ZarrVersion version, std::vector<size_t> order)
{
    ArraySpec s;
    s.key = "img";
    s.version = version;
    s.dtype = ZarrDataType_uint16;
    s.dims = { { "y", ZarrDimensionType_Space, kH, 3, 2, "", 1.0 },
               { "x", ZarrDimensionType_Space, kW, 4, 2, "", 1.0 } };
    s.storage_order = std::move(order);
    return s;
}

class TwoDimensions : public testing::TestWithParam<std::tuple<ZarrVersion, bool>>
{};

uint64_t
u64_at(const std::string& s, size_t at)
{
    uint64_t v = 0;
    std::memcpy(&v, s.data() + at, 8);
    return v; // the index is little-endian, as are the hosts we build for
}

} // namespace

TEST_P(TwoDimensions, OneFrameFillsTheArrayAndReadsBackAsTheFrame)
{
    const auto [version, swapped] = GetParam();
    const ArraySpec spec = two_d(version, swapped ? std::vector<size_t>{ 1, 0 }
                                                  : std::vector<size_t>{});
    const test::TempDir dir;
    const fs::path& root = dir.path();
    auto store = storage::make_filesystem_store(root.string());
    FirstError errors;
    std::vector<uint16_t> frame(kH * kW);
    for (size_t i = 0; i < frame.size(); ++i) {
        frame[i] = static_cast<uint16_t>(i + 1);
    }
    {
        ThreadPool pool(2, 8, 1 << 20, errors);
        ArrayWriter writer(spec, *store, pool, errors);
        EXPECT_EQ(writer.geometry().frame_capacity(), 1u);
        writer.append_frame(reinterpret_cast<const uint8_t*>(frame.data()));
        writer.flush();
        pool.wait_idle();
        writer.finalize_shards();
        writer.write_metadata();
    }
    ASSERT_FALSE(errors.failed());

    // Stored axes: (y, x), or (x, y) when swapped.
    const uint64_t rows = swapped ? kW : kH, cols = swapped ? kH : kW;
    const uint64_t ch_r = swapped ? 4 : 3, ch_c = swapped ? 3 : 4;
    const auto at = [&](uint64_t r, uint64_t c) {
        return swapped ? frame[c * kW + r] : frame[r * kW + c];
    };
    const std::string meta =
      *store->get(version == ZarrVersion_2 ? "img/.zarray" : "img/zarr.json");
    const auto doc = json::parse(meta);
    EXPECT_EQ(doc["shape"], json::array({ rows, cols }));
    const uint64_t chunk_bytes = ch_r * ch_c * 2;
    for (uint64_t i = 0; i * ch_r < rows; ++i) {
        for (uint64_t j = 0; j * ch_c < cols; ++j) {
            std::string chunk;
            if (version == ZarrVersion_2) {
                chunk = *store->get("img/" + std::to_string(i) + "/" + std::to_string(j));
            } else {
                // Shards of 2 x 2 chunks; the index (C order) at the end.
                const std::string shard = *store->get("img/c/" + std::to_string(i / 2) + "/" +
                                                      std::to_string(j / 2));
                const size_t entry = (i % 2) * 2 + j % 2;
                const size_t index = shard.size() - 4 - 16 * 4;
                const uint64_t offset = u64_at(shard, index + 16 * entry);
                ASSERT_EQ(u64_at(shard, index + 16 * entry + 8), chunk_bytes);
                chunk = shard.substr(offset, chunk_bytes);
            }
            ASSERT_EQ(chunk.size(), chunk_bytes);
            for (uint64_t r = 0; r < ch_r; ++r) {
                for (uint64_t c = 0; c < ch_c; ++c) {
                    uint16_t v = 0;
                    std::memcpy(&v, chunk.data() + (r * ch_c + c) * 2, 2);
                    const uint64_t gr = i * ch_r + r, gc = j * ch_c + c;
                    const uint16_t want = gr < rows && gc < cols ? at(gr, gc) : 0;
                    ASSERT_EQ(v, want) << "chunk " << i << "," << j << " at " << r << "," << c;
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(VersionsAndOrders,
                         TwoDimensions,
                         testing::Combine(testing::Values(ZarrVersion_2, ZarrVersion_3),
                                          testing::Bool()));

TEST(TwoDimensionPyramid, LevelsHalveYAndXAndTheDownsamplerReducesTheFrame)
{
    ArraySpec base = two_d(ZarrVersion_3, {});
    base.dims[0].size = 20;
    base.dims[0].chunk = 8;
    base.dims[1].size = 30;
    base.dims[1].chunk = 8;
    const auto levels = pyramid_levels(base, "img", { .keep_chunk_shape = true });
    // acquire-zarr 0.10's shapes for this array: 20x30, 10x15, 5x8.
    ASSERT_EQ(levels.size(), 3u);
    EXPECT_EQ(levels[1].dims.size(), 2u);
    EXPECT_EQ(levels[1].dims[0].size, 10u);
    EXPECT_EQ(levels[1].dims[1].size, 15u);
    EXPECT_EQ(levels[2].dims[0].size, 5u);
    EXPECT_EQ(levels[2].dims[1].size, 8u);
    EXPECT_EQ(levels[2].dims[1].chunk, 8u);

    std::vector<uint16_t> frame(20 * 30);
    for (size_t i = 0; i < frame.size(); ++i) {
        frame[i] = static_cast<uint16_t>(i % 30 + 100 * (i / 30));
    }
    Downsampler down(levels[0], levels[1], ZarrDownsamplingMethod_Mean);
    int emitted = 0;
    down.push(reinterpret_cast<const uint8_t*>(frame.data()), [&](const uint8_t* out) {
        ++emitted;
        const auto* px = reinterpret_cast<const uint16_t*>(out);
        // Mean of (2x, 2x+1) in x and (2y, 2y+1) in y: x + 0.5 + 100 (2y + 0.5).
        EXPECT_EQ(px[0], 50u);                 // 0.5 + 50 truncated
        EXPECT_EQ(px[1 * 15 + 3], 6u + 250u);  // 6.5 + 250 truncated
        EXPECT_EQ(px[14], 28u + 50u);          // the last column: one pixel wide
    });
    down.flush([&](const uint8_t*) { ++emitted; });
    EXPECT_EQ(emitted, 1);
}
