// Arrays stored in another order than frames are acquired in, and 2-D
// arrays: which orders are accepted, where every element of every frame
// lands (chunk key and place in the chunk, as a Zarr reader finds it), the
// shard index order and the metadata.
#include "dimension_specs.hh"
#include "util/error.hh"
#include "zarr/frame_scatter.hh"
#include "zarr/metadata.hh"
#include "zarr/storage_order.hh"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using zarr::ArraySpec;
using zarr::DimensionSpec;
using zarr::FrameScatter;
using zarr::Geometry;
using zarr::test::dims;

namespace {

/// The message storage_order_from refuses `order` with ("" if accepted).
std::string
refusal(std::vector<size_t> order, size_t ndim)
{
    std::vector<std::array<uint64_t, 3>> specs(ndim, { 4, 2, 1 });
    try {
        zarr::storage_order_from(order.data(), dims(specs), "arrays[1].storage_dimension_order");
    } catch (const zarr::Error& e) {
        EXPECT_EQ(e.code(), ZarrStatusCode_InvalidSettings);
        return e.what();
    }
    return "";
}

/// Scatters `frames` frames whose element i (uint16, acquisition order,
/// counting across frames) is i + 1 through FrameScatter::copy_tile, and
/// checks every element at the place a reader of the stored array finds
/// it: the chunk at its stored chunk coordinates, in C order over the
/// chunk shape in storage order. Also checks that stage_planes() stages
/// each frame's tiles as they sit in the chunks.
void
expect_every_element_where_a_reader_finds_it(const std::vector<DimensionSpec>& acq,
                                             const std::vector<size_t>& order,
                                             uint64_t frames)
{
    using T = uint16_t;
    const Geometry g(acq, sizeof(T), order);
    FrameScatter scatter(g);
    const uint64_t frame_elems = g.frame_height() * g.frame_width();
    std::map<std::vector<uint64_t>, std::vector<T>> chunks; // by stored coords
    std::vector<T> frame(frame_elems);
    std::vector<uint8_t> staged(scatter.tiles().size() * scatter.plane_bytes());
    for (uint64_t f = 0; f < frames; ++f) {
        for (uint64_t i = 0; i < frame_elems; ++i) {
            frame[i] = static_cast<T>(f * frame_elems + i + 1);
        }
        const auto* bytes = reinterpret_cast<const uint8_t*>(frame.data());
        const auto placement = scatter.place();
        scatter.stage_planes(bytes, staged.data(), 1, nullptr);
        for (size_t t = 0; t < scatter.tiles().size(); ++t) {
            const auto& tile = scatter.tiles()[t];
            const auto key = g.stored(scatter.chunk_coords(placement.base + tile.slab_offset));
            auto& chunk = chunks[key];
            chunk.resize(g.chunk_elements());
            auto* dst = reinterpret_cast<uint8_t*>(chunk.data()) + placement.local_bytes;
            scatter.copy_tile(bytes, tile, dst);
            EXPECT_EQ(std::memcmp(staged.data() + t * scatter.plane_bytes(), dst,
                                  scatter.plane_bytes()),
                      0)
              << "frame " << f << " tile " << t;
        }
    }

    // Reference: the acquisition-order array, element by element.
    const size_t n = g.ndim();
    std::vector<uint64_t> sizes = g.sizes();
    if (sizes[0] == 0) {
        sizes[0] = frames / g.frames_per_append_index();
    }
    // Over g.ndim(): a 2-D array has a leading dimension of one frame.
    const size_t lead = n - acq.size();
    std::vector<size_t> full_order;
    for (size_t d = 0; d < n; ++d) {
        full_order.push_back(d);
    }
    if (!order.empty()) {
        for (size_t k = 0; k < order.size(); ++k) {
            full_order[lead + k] = order[k] + lead;
        }
    }
    const auto stored_chunk = zarr::in_storage_order(g.chunk_shape(), full_order);
    uint64_t total = 1;
    for (uint64_t s : sizes) {
        total *= s;
    }
    std::vector<uint64_t> a(n);
    for (uint64_t i = 0; i < total; ++i) {
        for (size_t d = n, rest = i; d-- > 0;) {
            a[d] = rest % sizes[d];
            rest /= sizes[d];
        }
        const auto s = zarr::in_storage_order(a, full_order);
        std::vector<uint64_t> chunk_of(n);
        uint64_t within = 0;
        for (size_t k = 0; k < n; ++k) {
            chunk_of[k] = s[k] / stored_chunk[k];
            within = within * stored_chunk[k] + s[k] % stored_chunk[k];
        }
        // The key as stored: no leading coordinate for a 2-D array.
        chunk_of.erase(chunk_of.begin(), chunk_of.begin() + static_cast<ptrdiff_t>(lead));
        const auto it = chunks.find(chunk_of);
        ASSERT_NE(it, chunks.end()) << "element " << i;
        ASSERT_EQ(it->second[within], static_cast<T>(i + 1)) << "element " << i;
    }
}

} // namespace

TEST(StorageOrder, NullAndIdentityAreAcquisitionOrder)
{
    const auto d = dims({ { 0, 1, 1 }, { 3, 1, 1 }, { 4, 2, 1 }, { 8, 4, 1 } });
    EXPECT_TRUE(zarr::storage_order_from(nullptr, d, "f").empty());
    const size_t identity[] = { 0, 1, 2, 3 };
    EXPECT_TRUE(zarr::storage_order_from(identity, d, "f").empty());
    const size_t swapped[] = { 0, 1, 3, 2 };
    EXPECT_EQ(zarr::storage_order_from(swapped, d, "f"), (std::vector<size_t>{ 0, 1, 3, 2 }));
}

TEST(StorageOrder, AcceptsWhatAcquireZarrAcceptsAndRefusesTheRestNamingFieldAndOrder)
{
    EXPECT_EQ(refusal({ 0, 2, 1, 3, 4 }, 5), "");
    EXPECT_EQ(refusal({ 0, 1, 2, 4, 3 }, 5), "");
    EXPECT_EQ(refusal({ 0, 2, 1, 4, 3 }, 5), "");
    EXPECT_EQ(refusal({ 1, 0 }, 2), ""); // a 2-D array's frame axes swap
    EXPECT_EQ(refusal({ 1, 0, 2, 3, 4 }, 5),
              "arrays[1].storage_dimension_order is [1, 0, 2, 3, 4]: the append dimension "
              "'n0' (0) must stay first");
    EXPECT_EQ(refusal({ 0, 3, 1, 2, 4 }, 5),
              "arrays[1].storage_dimension_order is [0, 3, 1, 2, 4]: the frame dimensions "
              "'n3' (3) and 'n4' (4) must stay in the last two places (they may swap)");
    EXPECT_EQ(refusal({ 0, 1, 2, 2, 4 }, 5),
              "arrays[1].storage_dimension_order is [0, 1, 2, 2, 4]: not a permutation of "
              "the dimension indices 0..4");
    EXPECT_EQ(refusal({ 0, 1, 5 }, 3),
              "arrays[1].storage_dimension_order is [0, 1, 5]: not a permutation of the "
              "dimension indices 0..2");
}

TEST(StorageOrder, PlanesArriveInOrderUnlessDimensionsOfSeveralPlanesPerChunkSwap)
{
    ArraySpec spec;
    // t, c (one plane per chunk), z, q (several), y, x.
    spec.dims = dims({ { 0, 2, 1 }, { 3, 1, 1 }, { 5, 2, 1 }, { 4, 2, 1 }, { 8, 4, 1 },
                       { 8, 4, 1 } });
    EXPECT_TRUE(zarr::planes_arrive_in_order(spec));
    spec.storage_order = { 0, 2, 1, 3, 4, 5 }; // c moves past z
    EXPECT_TRUE(zarr::planes_arrive_in_order(spec));
    spec.storage_order = { 0, 2, 3, 1, 4, 5 };
    EXPECT_TRUE(zarr::planes_arrive_in_order(spec));
    spec.storage_order = { 0, 3, 2, 1, 4, 5 }; // q before z
    EXPECT_FALSE(zarr::planes_arrive_in_order(spec));
    spec.storage_order = { 0, 1, 2, 3, 5, 4 }; // frame axes swapped
    EXPECT_FALSE(zarr::planes_arrive_in_order(spec));
}

TEST(StorageOrder, IdentityOrderScattersAsAcquired)
{
    expect_every_element_where_a_reader_finds_it(
      dims({ { 0, 2, 1 }, { 3, 2, 1 }, { 5, 2, 1 }, { 7, 3, 1 }, { 9, 4, 1 } }), {}, 2 * 15);
}

TEST(StorageOrder, SwappedOuterDimensionsPlaceEachFramesPlaneInStorageOrder)
{
    // t, c, z acquired (z fastest) and stored t, z, c; ragged in every
    // dimension, a partial last chunk along t.
    expect_every_element_where_a_reader_finds_it(
      dims({ { 0, 2, 1 }, { 3, 2, 1 }, { 5, 2, 1 }, { 7, 3, 1 }, { 9, 4, 1 } }),
      { 0, 2, 1, 3, 4 }, 3 * 15);
}

TEST(StorageOrder, SwappedFrameAxesTransposeEachTile)
{
    expect_every_element_where_a_reader_finds_it(
      dims({ { 0, 2, 1 }, { 7, 3, 1 }, { 9, 4, 1 } }), { 0, 2, 1 }, 5);
    // Tiles larger than the transpose's blocks, ragged.
    expect_every_element_where_a_reader_finds_it(
      dims({ { 2, 1, 1 }, { 70, 40, 1 }, { 45, 33, 1 } }), { 0, 2, 1 }, 2);
}

TEST(StorageOrder, EveryAxisMovedAtOnce)
{
    expect_every_element_where_a_reader_finds_it(
      dims({ { 4, 3, 1 }, { 2, 1, 1 }, { 3, 2, 1 }, { 5, 2, 1 }, { 6, 4, 1 } }),
      { 0, 2, 1, 4, 3 }, 4 * 6);
}

TEST(TwoDimensions, OneFrameFillsTheArrayAndKeysHaveTwoCoordinates)
{
    const auto d = dims({ { 7, 3, 2 }, { 9, 4, 1 } });
    const Geometry g(d, 2);
    EXPECT_EQ(g.ndim(), 3u);
    EXPECT_EQ(g.frame_capacity(), 1u);
    EXPECT_EQ(g.frame_height(), 7u);
    EXPECT_EQ(g.frame_width(), 9u);
    EXPECT_EQ(g.stored({ 0, 2, 1 }), (std::vector<uint64_t>{ 2, 1 }));
    expect_every_element_where_a_reader_finds_it(d, {}, 1);
    expect_every_element_where_a_reader_finds_it(d, { 1, 0 }, 1);
}

TEST(StorageOrder, ShardIndexIsInStorageOrder)
{
    // Shards of 2 x 3 x 2 chunks acquired (t, c, z); stored (t, z, c), the
    // index runs over (t, z, c) in C order.
    const Geometry g(dims({ { 0, 1, 2 }, { 6, 1, 3 }, { 4, 1, 2 }, { 4, 4, 1 }, { 4, 4, 1 } }), 1,
                     { 0, 2, 1, 3, 4 });
    EXPECT_EQ(g.index_in_shard({ 0, 1, 0, 0, 0 }), 1u);
    EXPECT_EQ(g.index_in_shard({ 0, 0, 1, 0, 0 }), 3u);
    EXPECT_EQ(g.index_in_shard({ 1, 2, 1, 0, 0 }), 6u + 5u);
    EXPECT_EQ(g.stored({ 5, 1, 2, 0, 0 }), (std::vector<uint64_t>{ 5, 2, 1, 0, 0 }));
    const Geometry acq(dims({ { 0, 1, 2 }, { 6, 1, 3 }, { 4, 1, 2 }, { 4, 4, 1 }, { 4, 4, 1 } }),
                       1);
    EXPECT_EQ(acq.index_in_shard({ 0, 1, 0, 0, 0 }), 2u);
    EXPECT_EQ(acq.index_in_shard({ 0, 0, 1, 0, 0 }), 1u);
}

TEST(StorageOrder, MetadataListsShapeChunksShardsAndNamesInStorageOrder)
{
    ArraySpec spec;
    spec.dims = dims({ { 0, 2, 1 }, { 3, 1, 1 }, { 5, 2, 2 }, { 6, 4, 1 }, { 10, 4, 2 } });
    spec.dtype = ZarrDataType_uint16;
    spec.storage_order = { 0, 2, 1, 4, 3 };
    const auto v3 = zarr::array_document(spec, 7);
    EXPECT_EQ(v3["shape"], zarr::json::parse("[7, 5, 3, 10, 6]"));
    EXPECT_EQ(v3["chunk_grid"]["configuration"]["chunk_shape"],
              zarr::json::parse("[2, 4, 1, 8, 4]"));
    EXPECT_EQ(v3["codecs"][0]["configuration"]["chunk_shape"],
              zarr::json::parse("[2, 2, 1, 4, 4]"));
    EXPECT_EQ(v3["dimension_names"], zarr::json::parse(R"(["n0", "n2", "n1", "n4", "n3"])"));
    spec.version = ZarrVersion_2;
    const auto v2 = zarr::array_document(spec, 7);
    EXPECT_EQ(v2["shape"], zarr::json::parse("[7, 5, 3, 10, 6]"));
    EXPECT_EQ(v2["chunks"], zarr::json::parse("[2, 2, 1, 4, 4]"));

    spec.dims[1].type = ZarrDimensionType_Channel;
    spec.dims[3].scale = 0.5;
    const auto entry = zarr::ome_multiscales_entry(
      "img", spec.dims, { { "0", { 1, 1, 2, 0.5, 0.25 } } }, ZarrVersion_3, spec.storage_order);
    EXPECT_EQ(entry["axes"][2]["name"], "n1");
    EXPECT_EQ(entry["axes"][2]["type"], "channel");
    EXPECT_EQ(entry["datasets"][0]["coordinateTransformations"][0]["scale"],
              zarr::json::parse("[1, 2, 1, 0.25, 0.5]"));
}

TEST(TwoDimensions, MetadataIsTwoDimensional)
{
    ArraySpec spec;
    spec.dims = dims({ { 20, 8, 2 }, { 30, 8, 2 } });
    const auto v3 = zarr::array_document(spec, 1);
    EXPECT_EQ(v3["shape"], zarr::json::parse("[20, 30]"));
    EXPECT_EQ(v3["chunk_grid"]["configuration"]["chunk_shape"], zarr::json::parse("[16, 16]"));
    EXPECT_EQ(v3["dimension_names"], zarr::json::parse(R"(["n0", "n1"])"));
    spec.storage_order = { 1, 0 };
    EXPECT_EQ(zarr::array_document(spec, 1)["shape"], zarr::json::parse("[30, 20]"));
}
