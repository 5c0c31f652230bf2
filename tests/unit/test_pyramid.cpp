#include "zarr/pyramid.hh"

#include <gtest/gtest.h>

#include <cstring>
#include <iterator>
#include <limits>
#include <utility>
#include <vector>

using zarr::ArraySpec;
using zarr::DimensionSpec;

namespace {

DimensionSpec
dim(const char* name, ZarrDimensionType type, uint64_t size, uint64_t chunk, uint64_t shard = 1)
{
    DimensionSpec d;
    d.name = name;
    d.type = type;
    d.size = size;
    d.chunk = chunk;
    d.shard_chunks = shard;
    return d;
}

ArraySpec
spec(std::vector<DimensionSpec> dims, ZarrDataType dtype = ZarrDataType_uint16)
{
    ArraySpec a;
    a.dims = std::move(dims);
    a.dtype = dtype;
    return a;
}

/// The levels of a t/y/x array of `height` x `width` frames in chunks of one
/// pixel, so that every level halves.
std::vector<ArraySpec>
tyx_levels(uint64_t height, uint64_t width, ZarrDataType dtype)
{
    return zarr::pyramid_levels(
      spec({ dim("t", ZarrDimensionType_Time, 0, 1), dim("y", ZarrDimensionType_Space, height, 1),
             dim("x", ZarrDimensionType_Space, width, 1) },
           dtype),
      "");
}

} // namespace

TEST(Pyramid, YXHalveUntilTheyFitOneChunk)
{
    const auto levels = zarr::pyramid_levels(
      spec({ dim("t", ZarrDimensionType_Time, 0, 4), dim("y", ZarrDimensionType_Space, 37, 8, 2),
             dim("x", ZarrDimensionType_Space, 45, 8, 3) }),
      "");
    ASSERT_EQ(levels.size(), 4u);
    const uint64_t ys[] = { 37, 19, 10, 5 };
    const uint64_t xs[] = { 45, 23, 12, 6 };
    for (size_t k = 0; k < levels.size(); ++k) {
        EXPECT_EQ(levels[k].key, std::to_string(k));
        EXPECT_EQ(levels[k].dims[0].size, 0u);
        EXPECT_EQ(levels[k].dims[0].chunk, 4u);
        EXPECT_EQ(levels[k].dims[1].size, ys[k]);
        EXPECT_EQ(levels[k].dims[2].size, xs[k]);
    }
    EXPECT_EQ(levels[3].dims[1].chunk, 5u);         // min(chunk, size)
    EXPECT_EQ(levels[2].dims[1].shard_chunks, 2u);  // 10 px = 2 chunks of 8
    EXPECT_EQ(levels[3].dims[2].shard_chunks, 1u);  // 6 px fit one chunk
    EXPECT_EQ(levels[3].dims[2].scale, 8.0);
    EXPECT_EQ(levels[3].dims[0].scale, 1.0);
}

TEST(Pyramid, ShortZStopsBeforeYX)
{
    const auto levels = zarr::pyramid_levels(
      spec({ dim("t", ZarrDimensionType_Time, 0, 1), dim("c", ZarrDimensionType_Channel, 3, 1),
             dim("z", ZarrDimensionType_Space, 6, 4), dim("y", ZarrDimensionType_Space, 64, 8),
             dim("x", ZarrDimensionType_Space, 64, 8) }),
      "img");
    ASSERT_EQ(levels.size(), 4u);
    EXPECT_EQ(levels[1].dims[2].size, 3u); // 6 > 4 -> 3
    EXPECT_EQ(levels[2].dims[2].size, 3u); // 3 <= 4 stays
    EXPECT_EQ(levels[1].dims[1].size, 3u); // channels never shrink
    EXPECT_EQ(levels[3].dims[3].size, 8u);
    EXPECT_EQ(levels[3].key, "img/3");
    const auto down = zarr::downsampled_dims(levels[1], levels[2]);
    EXPECT_EQ(down, (std::vector<bool>{ false, false, false, true, true }));
}

TEST(Pyramid, UnboundedSpaceAppendDimensionHalvesEveryLevel)
{
    const auto levels = zarr::pyramid_levels(
      spec({ dim("z", ZarrDimensionType_Space, 0, 2), dim("y", ZarrDimensionType_Space, 16, 4),
             dim("x", ZarrDimensionType_Space, 16, 4) }),
      "");
    ASSERT_EQ(levels.size(), 3u);
    EXPECT_EQ(levels[2].dims[0].scale, 4.0);
    EXPECT_EQ(zarr::downsampled_dims(levels[0], levels[1])[0], true);
}

TEST(Pyramid, NothingToShrinkMeansOneLevel)
{
    const auto levels = zarr::pyramid_levels(
      spec({ dim("t", ZarrDimensionType_Time, 0, 1), dim("y", ZarrDimensionType_Space, 8, 8),
             dim("x", ZarrDimensionType_Space, 8, 16) }),
      "");
    EXPECT_EQ(levels.size(), 1u);
}

TEST(Pyramid, KeepChunkShapeKeepsLevelZerosChunksAndShrinksShardsAsAcquireZarr)
{
    // acquire-zarr 0.10 writes, for this array: shapes 37x45, 19x23, 10x12,
    // 5x6; inner chunks 8x8 at every level; shards 16x24, 16x24, 16x16, 8x8.
    const auto levels = zarr::pyramid_levels(
      spec({ dim("t", ZarrDimensionType_Time, 0, 4), dim("y", ZarrDimensionType_Space, 37, 8, 2),
             dim("x", ZarrDimensionType_Space, 45, 8, 3) }),
      "", { .max_levels = 0, .keep_chunk_shape = true });
    ASSERT_EQ(levels.size(), 4u);
    const uint64_t ys[] = { 37, 19, 10, 5 };
    const uint64_t xs[] = { 45, 23, 12, 6 };
    const uint64_t shard_ys[] = { 2, 2, 2, 1 };
    const uint64_t shard_xs[] = { 3, 3, 2, 1 };
    for (size_t k = 0; k < levels.size(); ++k) {
        EXPECT_EQ(levels[k].dims[1].size, ys[k]);
        EXPECT_EQ(levels[k].dims[2].size, xs[k]);
        EXPECT_EQ(levels[k].dims[0].chunk, 4u);
        EXPECT_EQ(levels[k].dims[1].chunk, 8u);
        EXPECT_EQ(levels[k].dims[2].chunk, 8u);
        EXPECT_EQ(levels[k].dims[1].shard_chunks, shard_ys[k]) << "level " << k;
        EXPECT_EQ(levels[k].dims[2].shard_chunks, shard_xs[k]) << "level " << k;
    }
    EXPECT_EQ(levels[3].dims[2].scale, 8.0);
}

TEST(Pyramid, MaxLevelsCapsTheDownsampledLevels)
{
    const auto base =
      spec({ dim("t", ZarrDimensionType_Time, 0, 1), dim("c", ZarrDimensionType_Channel, 3, 1),
             dim("z", ZarrDimensionType_Space, 6, 4), dim("y", ZarrDimensionType_Space, 64, 8),
             dim("x", ZarrDimensionType_Space, 64, 8) });
    const auto all = zarr::pyramid_levels(base, "");
    ASSERT_EQ(all.size(), 4u);
    for (uint32_t cap = 1; cap <= 5; ++cap) {
        const auto capped = zarr::pyramid_levels(base, "img", { .max_levels = cap });
        ASSERT_EQ(capped.size(), std::min<size_t>(cap + 1, all.size())) << "cap " << cap;
        for (size_t k = 0; k < capped.size(); ++k) {
            EXPECT_EQ(capped[k].key, "img/" + std::to_string(k));
            for (size_t d = 0; d < base.dims.size(); ++d) {
                EXPECT_EQ(capped[k].dims[d].size, all[k].dims[d].size);
                EXPECT_EQ(capped[k].dims[d].scale, all[k].dims[d].scale);
            }
        }
    }
    // max_levels 0 is no cap.
    EXPECT_EQ(zarr::pyramid_levels(base, "", { .max_levels = 0 }).size(), all.size());
}

TEST(Pyramid, SeedEraRulesClampChunksToTheLevel)
{
    const auto levels = zarr::pyramid_levels(
      spec({ dim("t", ZarrDimensionType_Time, 0, 1), dim("y", ZarrDimensionType_Space, 20, 8),
             dim("x", ZarrDimensionType_Space, 12, 8) }),
      "");
    ASSERT_EQ(levels.size(), 3u);
    EXPECT_EQ(levels[2].dims[1].size, 5u);
    EXPECT_EQ(levels[2].dims[1].chunk, 5u);
    EXPECT_EQ(levels[2].dims[2].size, 6u); // 6 <= 8 stopped shrinking
    EXPECT_EQ(levels[2].dims[2].chunk, 6u);
}

TEST(Downsampler, MeanOfOddFrameAveragesOnlyThePixelsThatExist)
{
    const auto levels = zarr::pyramid_levels(
      spec({ dim("t", ZarrDimensionType_Time, 0, 1), dim("y", ZarrDimensionType_Space, 3, 1),
             dim("x", ZarrDimensionType_Space, 3, 1) }),
      "");
    ASSERT_GE(levels.size(), 2u);
    zarr::Downsampler ds(levels[0], levels[1], ZarrDownsamplingMethod_Mean);
    const uint16_t frame[9] = { 1, 3, 5, 7, 9, 11, 13, 15, 17 };
    std::vector<uint16_t> got;
    ds.push(reinterpret_cast<const uint8_t*>(frame), [&](const uint8_t* f) {
        got.assign(reinterpret_cast<const uint16_t*>(f), reinterpret_cast<const uint16_t*>(f) + 4);
    });
    // (1+3+7+9)/4=5, right 1x2 (5+11)/2=8, bottom 2x1 (13+15)/2=14, corner 1x1 17
    EXPECT_EQ(got, (std::vector<uint16_t>{ 5, 8, 14, 17 }));
}

TEST(Downsampler, EdgeBlocksOfSignedDataReduceOverThePixelsThatExist)
{
    const auto levels = tyx_levels(2, 3, ZarrDataType_int8);
    const int8_t frame[6] = { -5, 2, 7, 3, -1, 9 };
    struct Case
    {
        ZarrDownsamplingMethod m;
        std::vector<int8_t> expected;
    };
    // The right block is the 2x1 column (7, 9): no phantom 0 takes part.
    for (const auto& c : { Case{ ZarrDownsamplingMethod_Min, { -5, 7 } },
                           Case{ ZarrDownsamplingMethod_Max, { 3, 9 } },
                           Case{ ZarrDownsamplingMethod_Decimate, { -5, 7 } },
                           Case{ ZarrDownsamplingMethod_Mean, { 0, 8 } } }) { // (-5+2+3-1)/4 -> 0, (7+9)/2 = 8
        zarr::Downsampler ds(levels[0], levels[1], c.m);
        std::vector<int8_t> got;
        ds.push(reinterpret_cast<const uint8_t*>(frame), [&](const uint8_t* f) {
            got.assign(reinterpret_cast<const int8_t*>(f), reinterpret_cast<const int8_t*>(f) + 2);
        });
        EXPECT_EQ(got, c.expected) << "method " << c.m;
    }
}

TEST(Downsampler, ZPairsCombineAndFlushEmitsTheOddPlane)
{
    const auto levels = zarr::pyramid_levels(
      spec({ dim("z", ZarrDimensionType_Space, 0, 1), dim("y", ZarrDimensionType_Space, 2, 1),
             dim("x", ZarrDimensionType_Space, 2, 1) }),
      "");
    zarr::Downsampler ds(levels[0], levels[1], ZarrDownsamplingMethod_Max);
    std::vector<uint16_t> emitted;
    auto emit = [&](const uint8_t* f) { emitted.push_back(*reinterpret_cast<const uint16_t*>(f)); };
    const uint16_t a[4] = { 1, 2, 3, 4 }, b[4] = { 8, 0, 0, 0 }, c[4] = { 5, 5, 5, 6 };
    ds.push(reinterpret_cast<const uint8_t*>(a), emit);
    EXPECT_TRUE(emitted.empty());
    ds.push(reinterpret_cast<const uint8_t*>(b), emit);
    ds.push(reinterpret_cast<const uint8_t*>(c), emit);
    EXPECT_EQ(emitted, (std::vector<uint16_t>{ 8 }));
    ds.flush(emit);
    EXPECT_EQ(emitted, (std::vector<uint16_t>{ 8, 6 }));
}

TEST(Downsampler, IntegerMeanOfAnEdgeBlockTruncatesTowardZero)
{
    // 1x3 frame: the last block is the lone pixel -3, the first (-3, -2)
    // whose exact mean -2.5 truncates to -2 (not -3, as flooring would).
    const auto levels = tyx_levels(1, 3, ZarrDataType_int16);
    const int16_t frame[3] = { -3, -2, -3 };
    std::vector<int16_t> got;
    zarr::Downsampler ds(levels[0], levels[1], ZarrDownsamplingMethod_Mean);
    ds.push(reinterpret_cast<const uint8_t*>(frame), [&](const uint8_t* f) {
        got.assign(reinterpret_cast<const int16_t*>(f), reinterpret_cast<const int16_t*>(f) + 2);
    });
    EXPECT_EQ(got, (std::vector<int16_t>{ -2, -3 }));
}

TEST(Downsampler, LoneLastPlaneFlushedAtCloseIsThatPlane)
{
    const auto levels = zarr::pyramid_levels(
      spec({ dim("z", ZarrDimensionType_Space, 0, 1), dim("y", ZarrDimensionType_Space, 2, 1),
             dim("x", ZarrDimensionType_Space, 2, 1) }),
      "");
    const uint16_t a[4] = { 1, 2, 3, 4 }, b[4] = { 8, 8, 8, 8 }, c[4] = { 5, 7, 9, 11 };
    // c reduces in (y, x) to min 5, max 11, mean 8, decimate 5; alone in
    // its z pair it stays so: no phantom 0 plane halves or zeroes it.
    const std::pair<ZarrDownsamplingMethod, uint16_t> cases[] = {
        { ZarrDownsamplingMethod_Min, 5 },
        { ZarrDownsamplingMethod_Max, 11 },
        { ZarrDownsamplingMethod_Mean, 8 },
        { ZarrDownsamplingMethod_Decimate, 5 },
    };
    for (const auto& [method, lone] : cases) {
        zarr::Downsampler ds(levels[0], levels[1], method);
        std::vector<uint16_t> emitted;
        auto emit = [&](const uint8_t* f) { emitted.push_back(*reinterpret_cast<const uint16_t*>(f)); };
        for (const uint16_t* plane : { a, b, c }) {
            ds.push(reinterpret_cast<const uint8_t*>(plane), emit);
        }
        ASSERT_EQ(emitted.size(), 1u) << "method " << method;
        ds.flush(emit);
        ASSERT_EQ(emitted.size(), 2u) << "method " << method;
        EXPECT_EQ(emitted[1], lone) << "method " << method;
    }
}

TEST(Downsampler, LastPlaneOfEachOddBoundedZStretchIsThatPlane)
{
    // c = 2 channels of z = 3 planes: plane 2 of each channel has no partner
    // and completes its level-1 plane as soon as it arrives.
    const auto levels = zarr::pyramid_levels(
      spec({ dim("c", ZarrDimensionType_Channel, 2, 1), dim("z", ZarrDimensionType_Space, 3, 1),
             dim("y", ZarrDimensionType_Space, 1, 1), dim("x", ZarrDimensionType_Space, 1, 1) }),
      "");
    ASSERT_GE(levels.size(), 2u);
    ASSERT_EQ(levels[1].dims[1].size, 2u);
    const int16_t planes[6] = { -7, 3, -9, 10, 20, 31 };
    const std::pair<ZarrDownsamplingMethod, std::vector<int16_t>> cases[] = {
        { ZarrDownsamplingMethod_Min, { -7, -9, 10, 31 } },
        { ZarrDownsamplingMethod_Max, { 3, -9, 20, 31 } },
        { ZarrDownsamplingMethod_Mean, { -2, -9, 15, 31 } }, // (-7+3)/2, (10+20)/2
        { ZarrDownsamplingMethod_Decimate, { -7, -9, 10, 31 } },
    };
    for (const auto& [method, expected] : cases) {
        auto l0 = levels[0], l1 = levels[1];
        l0.dtype = l1.dtype = ZarrDataType_int16;
        zarr::Downsampler ds(l0, l1, method);
        std::vector<int16_t> emitted;
        auto emit = [&](const uint8_t* f) { emitted.push_back(*reinterpret_cast<const int16_t*>(f)); };
        for (const int16_t& v : planes) {
            ds.push(reinterpret_cast<const uint8_t*>(&v), emit);
        }
        EXPECT_EQ(emitted, expected) << "method " << method; // nothing left for flush
        ds.flush(emit);
        EXPECT_EQ(emitted.size(), 4u) << "method " << method;
    }
}

TEST(Downsampler, MetadataDescribesTheEdgeRuleAndClaimsNoZeroPadding)
{
    for (const auto method : { ZarrDownsamplingMethod_Decimate, ZarrDownsamplingMethod_Mean,
                               ZarrDownsamplingMethod_Min, ZarrDownsamplingMethod_Max }) {
        zarr::json entry = zarr::json::object();
        zarr::describe_downsampling(entry, method);
        const auto& metadata = entry["metadata"];
        const std::string description = metadata["description"];
        EXPECT_NE(description.find("reduced over the elements that exist"), std::string::npos)
          << description;
        EXPECT_NE(description.find("lone last plane"), std::string::npos) << description;
        EXPECT_EQ(description.find("counts as 0"), std::string::npos) << description;
        EXPECT_FALSE(metadata.contains("kwargs") && metadata["kwargs"].contains("cval"))
          << "method " << method;
    }
}

TEST(Downsampler, EachMethodNamesItsTypeInTheMultiscalesEntry)
{
    const std::pair<ZarrDownsamplingMethod, const char*> cases[] = {
        { ZarrDownsamplingMethod_Decimate, "decimate" },
        { ZarrDownsamplingMethod_Mean, "local_mean" },
        { ZarrDownsamplingMethod_Min, "local_min" },
        { ZarrDownsamplingMethod_Max, "local_max" },
    };
    for (const auto& [method, type] : cases) {
        zarr::json entry = { { "name", "img" } };
        zarr::describe_downsampling(entry, method);
        EXPECT_EQ(entry["type"], type);
        // After the entry's own keys, as OME-NGFF examples order them.
        EXPECT_EQ(std::prev(entry.end()).key(), "metadata");
        EXPECT_TRUE(entry["metadata"].contains("method")) << type;
        EXPECT_TRUE(entry["metadata"].contains("description")) << type;
    }
}

TEST(Downsampler, MaxOfFloatBlockKeepsTheFirstOfUnorderedPairs)
{
    // A NaN compares false both ways, so the order of the comparisons
    // decides the result: (a, b) and (c, d) are reduced first, then the two.
    const auto levels = tyx_levels(2, 2, ZarrDataType_float32);
    zarr::Downsampler ds(levels[0], levels[1], ZarrDownsamplingMethod_Max);
    const float frame[4] = { 1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN(), 3.0f };
    float got = 0;
    ds.push(reinterpret_cast<const uint8_t*>(frame),
            [&](const uint8_t* f) { std::memcpy(&got, f, sizeof(got)); });
    EXPECT_EQ(got, 2.0f); // max(max(1, 2), max(NaN, 3)) = max(2, NaN) = 2
}
