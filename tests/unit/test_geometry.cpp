#include "dimension_specs.hh"
#include "zarr/geometry.hh"

#include <gtest/gtest.h>

#include <vector>

using zarr::Geometry;
using zarr::test::dims;

TEST(Geometry, RaggedChunkCountsInEveryDimension)
{
    const Geometry g(dims({ { 7, 3, 2 }, { 10, 4, 2 }, { 9, 4, 3 } }), 2);
    EXPECT_EQ(g.chunk_counts(), (std::vector<uint64_t>{ 3, 3, 3 }));
    EXPECT_EQ(g.chunk_bytes(), 3u * 4 * 4 * 2);
    EXPECT_EQ(g.chunks_per_slab(), 9u);
    EXPECT_EQ(g.tiles_per_frame(), 9u);
    EXPECT_EQ(g.frame_bytes(), 10u * 9 * 2);
    EXPECT_EQ(g.frame_capacity(), 7u);
    EXPECT_EQ(g.shard_shape(), (std::vector<uint64_t>{ 6, 8, 12 }));
    EXPECT_EQ(g.chunks_per_shard(), 12u);
}

TEST(Geometry, UnboundedAppendDimensionHasNoChunkCountAndNoFrameCapacity)
{
    const Geometry g(dims({ { 0, 5, 2 }, { 8, 8, 1 }, { 8, 8, 1 } }), 1);
    EXPECT_TRUE(g.unbounded());
    EXPECT_EQ(g.chunk_counts()[0], 0u);
    EXPECT_EQ(g.frame_capacity(), UINT64_MAX);
    EXPECT_EQ(g.frames_per_slab(), 5u);
}

TEST(Geometry, FramesFillOuterDimensionsInCOrder)
{
    // t (unbounded), c = 3, z = 4, y, x
    const Geometry g(dims({ { 0, 1, 1 }, { 3, 1, 1 }, { 4, 2, 1 }, { 6, 3, 1 }, { 6, 3, 1 } }), 1);
    EXPECT_EQ(g.frames_per_append_index(), 12u);
    uint64_t c[3];
    g.frame_coords(0, c);
    EXPECT_EQ((std::vector<uint64_t>{ c[0], c[1], c[2] }), (std::vector<uint64_t>{ 0, 0, 0 }));
    g.frame_coords(5, c);
    EXPECT_EQ((std::vector<uint64_t>{ c[0], c[1], c[2] }), (std::vector<uint64_t>{ 0, 1, 1 }));
    g.frame_coords(12 * 7 + 11, c);
    EXPECT_EQ((std::vector<uint64_t>{ c[0], c[1], c[2] }), (std::vector<uint64_t>{ 7, 2, 3 }));
}

TEST(Geometry, SlabIndexMapsToChunkCoordsInCOrder)
{
    const Geometry g(dims({ { 0, 2, 1 }, { 3, 2, 1 }, { 5, 2, 1 }, { 7, 3, 1 } }), 1);
    // slab chunk grid: c 2 x y 3 x x 3 = 18
    EXPECT_EQ(g.chunks_per_slab(), 18u);
    EXPECT_EQ(g.chunk_coords(4, 0), (std::vector<uint64_t>{ 4, 0, 0, 0 }));
    EXPECT_EQ(g.chunk_coords(4, 17), (std::vector<uint64_t>{ 4, 1, 2, 2 }));
    EXPECT_EQ(g.chunk_coords(1, 3 * 3 + 2 * 3 + 1), (std::vector<uint64_t>{ 1, 1, 2, 1 }));
}

TEST(Geometry, OnlyChunksPastABoundedEdgeAreEdgeChunks)
{
    const Geometry g(dims({ { 6, 3, 1 }, { 10, 4, 1 }, { 8, 4, 1 } }), 1);
    EXPECT_FALSE(g.is_edge_chunk({ 0, 0, 0 }));
    EXPECT_FALSE(g.is_edge_chunk({ 1, 1, 1 }));
    EXPECT_TRUE(g.is_edge_chunk({ 0, 2, 0 })); // y 8..11 past 10
    const Geometry u(dims({ { 0, 3, 1 }, { 8, 4, 1 }, { 8, 4, 1 } }), 1);
    EXPECT_FALSE(u.is_edge_chunk({ 1000, 1, 1 })); // unbounded never an edge
}

struct ShardCase
{
    std::vector<std::array<uint64_t, 3>> dims;
    std::vector<uint64_t> shard;
    uint64_t expected;
};

class ChunksExpectedInShard : public testing::TestWithParam<ShardCase>
{};

TEST_P(ChunksExpectedInShard, CountsOnlyChunksInsideTheArray)
{
    const auto& p = GetParam();
    const Geometry g(dims(p.dims), 1);
    EXPECT_EQ(g.chunks_expected_in_shard(p.shard), p.expected);
}

INSTANTIATE_TEST_SUITE_P(
  Cases,
  ChunksExpectedInShard,
  testing::Values(
    // interior shard: all 2*2*2
    ShardCase{ { { 8, 2, 2 }, { 8, 2, 2 }, { 8, 2, 2 } }, { 0, 0, 0 }, 8 },
    // y has 5 chunks, shards of 2: last y-shard has 1 chunk
    ShardCase{ { { 8, 2, 2 }, { 10, 2, 2 }, { 8, 2, 2 } }, { 1, 2, 0 }, 4 },
    // unbounded append: the full shard depth counts
    ShardCase{ { { 0, 2, 3 }, { 4, 2, 2 }, { 3, 2, 2 } }, { 5, 0, 0 }, 3 * 2 * 2 },
    // bounded append of 5 chunks, shards of 3: last t-shard holds 2
    ShardCase{ { { 9, 2, 3 }, { 4, 4, 1 }, { 4, 4, 1 } }, { 1, 0, 0 }, 2 }));

TEST(Geometry, RankInShardLeavesOutChunksPastTheEdges)
{
    // y: 5 chunks in shards of 2 (the last y-shard holds 1); x: 7 chunks in
    // shards of 3 (the last x-shard holds 1); t unbounded, shards of 2.
    const Geometry g(dims({ { 0, 1, 2 }, { 10, 2, 2 }, { 14, 2, 3 } }), 1);
    EXPECT_EQ(g.rank_in_shard({ 0, 0, 0 }), 0u);
    EXPECT_EQ(g.rank_in_shard({ 0, 1, 2 }), 5u);  // as index_in_shard inside
    EXPECT_EQ(g.rank_in_shard({ 1, 0, 0 }), 6u);
    EXPECT_EQ(g.rank_in_shard({ 0, 4, 0 }), 0u);  // last y-shard: one row
    EXPECT_EQ(g.rank_in_shard({ 0, 4, 2 }), 2u);
    EXPECT_EQ(g.rank_in_shard({ 1, 4, 1 }), 4u);  // 3 chunks per t there
    EXPECT_EQ(g.rank_in_shard({ 0, 1, 6 }), 1u);  // last x-shard: one column
    EXPECT_EQ(g.rank_in_shard({ 1, 4, 6 }), 1u);  // the corner shard: 1 x 1 x 1
    EXPECT_EQ(g.chunks_expected_in_shard({ 0, 2, 2 }), 2u);
}

TEST(Geometry, IndexInShardIsCOrder)
{
    const Geometry g(dims({ { 0, 1, 2 }, { 8, 2, 2 }, { 12, 2, 3 } }), 1);
    EXPECT_EQ(g.index_in_shard({ 0, 0, 0 }), 0u);
    EXPECT_EQ(g.index_in_shard({ 0, 0, 2 }), 2u);
    EXPECT_EQ(g.index_in_shard({ 0, 1, 0 }), 3u);
    EXPECT_EQ(g.index_in_shard({ 1, 0, 0 }), 6u);
    EXPECT_EQ(g.index_in_shard({ 3, 3, 5 }), 11u); // same as {1,1,2}
}
