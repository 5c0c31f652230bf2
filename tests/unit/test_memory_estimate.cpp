// The memory estimate's structure (tests/python/test_memory_estimate.py
// checks it against the memory streams really take): the pool that every
// array shares is counted once, each array's own buffers once per array,
// and chunks compressed plane by plane are charged their segments, not
// whole-chunk buffers.
#include "stream/memory.hh"
#include "stream/settings.hh"
#include "stream/stream.hh"
#include "zarr/array_writer.hh"
#include "zarr/geometry.hh"
#include "zarr/io_policy.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using zarr::plan_stream;

namespace {

constexpr uint64_t kMiB = uint64_t{ 1 } << 20;

/// Arrays of 2048x2048 uint16 frames, t/y/x chunks of 32x256x256 in shards
/// of 1x8x8 chunks (benchmarks/scenarios.py, multi-v3).
struct MultiV3
{
    ZarrDimensionProperties dims[3] = {
        { "t", ZarrDimensionType_Time, 0, 32, 1, nullptr, 0.0 },
        { "y", ZarrDimensionType_Space, 2048, 256, 8, nullptr, 0.0 },
        { "x", ZarrDimensionType_Space, 2048, 256, 8, nullptr, 0.0 },
    };
    ZarrCompressionSettings compression{ ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscLZ4,
                                         1, 1 };
    std::vector<std::string> keys;
    std::vector<ZarrArraySettings> arrays;
    ZarrStreamSettings s{};

    zarr::StreamPlan plan(size_t n, ZarrCompressionSettings* c)
    {
        for (size_t a = 0; a < n; ++a) {
            keys.push_back("pos" + std::to_string(a));
        }
        for (size_t a = 0; a < n; ++a) {
            ZarrArraySettings array{};
            array.output_key = keys[a].c_str();
            array.dimensions = dims;
            array.dimension_count = 3;
            array.data_type = ZarrDataType_uint16;
            array.compression_settings = c;
            arrays.push_back(array);
        }
        s.store_path = "multi.zarr";
        s.arrays = arrays.data();
        s.array_count = arrays.size();
        s.max_threads = 2;
        return plan_stream(&s);
    }
};

zarr::ThreadPool::Config
pool_of(const zarr::StreamPlan& plan)
{
    std::vector<std::vector<std::optional<zarr::codec::BloscPlanes>>> planes;
    for (const auto& array : plan.arrays) {
        planes.emplace_back();
        for (const auto& level : array.levels) {
            planes.back().push_back(zarr::ArrayWriter::plane_plan(level));
        }
    }
    return zarr::shared_pool_config(plan, planes);
}

} // namespace

TEST(MemoryEstimate, EachArrayBringsItsSlabAndThePoolsFixedCostsAreCountedOnce)
{
    // zstd: chunks compressed whole, a slab of raw chunk buffers per array.
    MultiV3 one, four;
    ZarrCompressionSettings zstd{ ZarrCompressor_Zstd, ZarrCompressionCodec_Zstd, 3, 0 };
    const zarr::StreamPlan p1 = one.plan(1, &zstd);
    const zarr::StreamPlan p4 = four.plan(4, &zstd);
    const uint64_t e1 = zarr::estimate_max_memory(p1);
    const uint64_t e4 = zarr::estimate_max_memory(p4);
    const auto& level = p1.arrays[0].levels[0];
    const zarr::Geometry g(level.dims, zarr::bytes_of(level.dtype));
    EXPECT_GE(e4 - e1, 3 * g.chunks_per_slab() * g.chunk_bytes());
    // The threads, their scratch and contexts, and the stream's allowance
    // are counted once.
    EXPECT_LT(e4, 4 * e1);
}

TEST(MemoryEstimate, CoversThePoolsBudgetsAndTheOpenSlab)
{
    MultiV3 f;
    const zarr::StreamPlan plan = f.plan(4, &f.compression);
    const zarr::ThreadPool::Config pool = pool_of(plan);
    const auto& level = plan.arrays[0].levels[0];
    const zarr::Geometry g(level.dims, zarr::bytes_of(level.dtype));
    const auto planes = zarr::ArrayWriter::plane_plan(level);
    ASSERT_TRUE(planes.has_value());
    EXPECT_GE(zarr::estimate_max_memory(plan),
              pool.byte_budget + pool.io_budget + 4 * g.chunks_per_slab() * planes->capacity());
}

TEST(MemoryEstimate, MultiV3IsChargedSegmentsNotWholeChunkBuffers)
{
    // Four arrays of LZ4 chunks compressed plane by plane: a slab of
    // worst-case chunks each (4 x 64 x 4 MiB), the shared budgets, staged
    // frames, packs: under 3 GiB, where whole-chunk buffers per array and
    // per-array budgets came to 6.6 GiB.
    MultiV3 f;
    const uint64_t e = zarr::estimate_max_memory(f.plan(4, &f.compression));
    EXPECT_LT(e, 3 * 1024 * kMiB);
    EXPECT_GT(e, 1024 * kMiB);
}

TEST(MemoryEstimate, UncompressedPlanesWrittenInPlaceNeedNoSlabOfChunks)
{
    // Uncompressed chunks on the filesystem are written plane by plane:
    // a few groups of staged planes, not a slab of 4 MiB chunks.
    MultiV3 raw, lz4;
    const uint64_t e_raw = zarr::estimate_max_memory(raw.plan(1, nullptr));
    const uint64_t e_lz4 = zarr::estimate_max_memory(lz4.plan(1, &lz4.compression));
    EXPECT_LT(e_raw, e_lz4);
}
