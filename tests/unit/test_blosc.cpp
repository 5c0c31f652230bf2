#include "codec/blosc1.hh"
#include "codec/shuffle.hh"
#include "util/buffer_pool.hh"
#include "util/error.hh"
#include "util/row_copy.hh"

#include <blosc.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

using zarr::codec::BloscCodec;
using zarr::codec::BloscParams;
using zarr::codec::BloscPlanes;

namespace {

std::vector<uint8_t>
smooth_data(size_t n)
{
    std::vector<uint8_t> v(n);
    std::mt19937 rng(42);
    for (size_t i = 0; i < n; ++i) {
        v[i] = static_cast<uint8_t>((i / 64) % 200 + rng() % 3);
    }
    return v;
}

/// c-blosc decodes the chunk at `chunk` to exactly `expected`.
void
expect_decodes_to(const uint8_t* chunk, const std::vector<uint8_t>& expected)
{
    std::vector<uint8_t> back(expected.size());
    ASSERT_EQ(blosc_decompress_ctx(chunk, back.data(), back.size(), 1),
              static_cast<int>(expected.size()));
    EXPECT_EQ(back, expected);
}

/// A whole plane as BloscPlanes::stage() hands it to the codec.
std::vector<uint8_t>
staged(const BloscPlanes& plan, const uint8_t* plane)
{
    std::vector<uint8_t> out(plan.plane_bytes());
    plan.stage(out.data(), plan.plane_bytes(), plane, plan.plane_bytes(), 1,
               plan.plane_bytes());
    zarr::finish_streaming_copies();
    return out;
}

/// Appends a plane to a chunk that is all in one buffer.
size_t
append_in_place(const BloscPlanes& plan,
                std::vector<uint8_t>& chunk,
                size_t end,
                size_t plane,
                const uint8_t* src)
{
    return plan.append(chunk.data(), chunk.data() + end, chunk.size() - end, end, plane, src);
}

} // namespace

class BloscRoundTrip
  : public testing::TestWithParam<std::tuple<BloscCodec, int, int, size_t>>
{};

TEST_P(BloscRoundTrip, DecompressesToTheInputWithAConformingHeader)
{
    const auto [codec, level, shuffle, type_size] = GetParam();
    const auto input = smooth_data(64 * 1024);
    std::vector<uint8_t> out(zarr::codec::blosc_max_compressed_size(input.size()));
    const BloscParams params{ codec, level, shuffle, type_size };
    const size_t n =
      zarr::codec::blosc_compress(params, input.data(), input.size(), out.data(), out.size());
    ASSERT_GT(n, 16u);
    ASSERT_LE(n, out.size());

    EXPECT_EQ(out[0], 2); // Blosc1 format version
    const uint8_t flags = out[2];
    EXPECT_EQ(flags >> 5, codec == BloscCodec::lz4 ? 1 : 4);
    EXPECT_EQ((flags & 0x01) != 0, shuffle == 1);
    EXPECT_EQ((flags & 0x04) != 0, shuffle == 2);
    EXPECT_EQ(out[3], type_size);
    uint32_t nbytes = 0, cbytes = 0;
    std::memcpy(&nbytes, out.data() + 4, 4);
    std::memcpy(&cbytes, out.data() + 12, 4);
    EXPECT_EQ(nbytes, input.size());
    EXPECT_EQ(cbytes, n);

    expect_decodes_to(out.data(), input);
}

INSTANTIATE_TEST_SUITE_P(
  Matrix,
  BloscRoundTrip,
  testing::Combine(testing::Values(BloscCodec::lz4, BloscCodec::zstd),
                   testing::Values(0, 1, 5, 9),
                   testing::Values(0, 1, 2),
                   testing::Values(size_t{ 1 }, size_t{ 2 }, size_t{ 4 }, size_t{ 8 })));

TEST(Blosc, IncompressibleDataFitsTheWorstCaseBound)
{
    std::vector<uint8_t> input(1 << 20);
    std::mt19937_64 rng(7);
    for (auto& b : input) {
        b = static_cast<uint8_t>(rng());
    }
    std::vector<uint8_t> out(zarr::codec::blosc_max_compressed_size(input.size()));
    const size_t n = zarr::codec::blosc_compress(
      { BloscCodec::zstd, 9, 2, 2 }, input.data(), input.size(), out.data(), out.size());
    EXPECT_LE(n, input.size() + BLOSC_MAX_OVERHEAD);
}

TEST(Blosc, TooSmallDestinationIsACompressionError)
{
    std::vector<uint8_t> input(4096);
    std::mt19937 rng(1);
    for (auto& b : input) {
        b = static_cast<uint8_t>(rng());
    }
    std::vector<uint8_t> out(64);
    try {
        zarr::codec::blosc_compress({ BloscCodec::lz4, 1, 1, 1 }, input.data(), input.size(),
                                    out.data(), out.size());
        FAIL() << "expected a CompressionError";
    } catch (const zarr::Error& e) {
        EXPECT_EQ(e.code(), ZarrStatusCode_CompressionError);
        EXPECT_NE(std::string(e.what()).find("lz4"), std::string::npos);
    }
}

// Chunks assembled plane by plane (codec::BloscPlanes) must decode, with
// c-blosc itself, to the planes given, whatever the data, codec, level,
// shuffle and type size, with planes missing (zeros) anywhere.
class BloscPlanesAssembly
  : public testing::TestWithParam<std::tuple<BloscCodec, int, int, size_t>>
{};

TEST_P(BloscPlanesAssembly, DecodesToThePlanesWithMissingOnesAsZeros)
{
    const auto [codec, level, shuffle, type_size] = GetParam();
    const BloscParams params{ codec, level, shuffle, type_size };
    const size_t plane_bytes = 128 * 1024;
    const size_t n_planes = 6;
    const auto plan = zarr::codec::BloscPlanes::plan(params, plane_bytes, n_planes);
    ASSERT_TRUE(plan.has_value());
    EXPECT_EQ(plane_bytes % plan->block_bytes(), 0u);
    // Byte shuffles of multi-byte elements are done while staging.
    EXPECT_EQ(plan->shuffles_staged(), shuffle == 1 && type_size > 1);
    // zstd blocks of planes that reach the codec unshuffled (as given or
    // shuffled while staged) are compressed by libzstd directly.
    EXPECT_EQ(plan->compresses_zstd_blocks(),
              codec == BloscCodec::zstd && (shuffle == 0 || plan->shuffles_staged()));

    // Plane 0 smooth, 1 random (incompressible), 2 missing, 3 smooth, 4
    // constant, 5 missing (after the last one given). Planes 1 and 3 are
    // compressed apart and copied in; the others in place.
    std::vector<uint8_t> expected(plane_bytes * n_planes, 0);
    const auto smooth = smooth_data(plane_bytes);
    std::mt19937 rng(7);
    std::memcpy(expected.data(), smooth.data(), plane_bytes);
    for (size_t i = 0; i < plane_bytes; ++i) {
        expected[plane_bytes + i] = static_cast<uint8_t>(rng());
    }
    std::memcpy(expected.data() + 3 * plane_bytes, smooth.data(), plane_bytes);
    std::memset(expected.data() + 4 * plane_bytes, 0x5a, plane_bytes);

    std::vector<uint8_t> chunk(plan->capacity(), 0xee);
    std::vector<uint8_t> apart(plan->plane_scratch(), 0xee);
    size_t end = plan->begin();
    // A plane compressed alone (`head`, `n` bytes) copied in.
    const auto copy_in = [&](size_t p, const uint8_t* head, size_t n) {
        std::memcpy(chunk.data() + end, head + plan->lead(), n - plan->lead());
        end = plan->place(chunk.data(), end, p, head, n);
    };
    const auto& zero = plan->zero_plane();
    for (size_t p = 0; p < 5; ++p) {
        const auto staged_plane = staged(*plan, expected.data() + p * plane_bytes);
        const uint8_t* plane = staged_plane.data();
        if (p == 2) {
            copy_in(p, zero.data(), zero.size());
        } else if (p % 2 == 1) {
            copy_in(p, apart.data(), plan->compress_plane(plane, apart.data(), apart.size()));
        } else {
            end = append_in_place(*plan, chunk, end, p, plane);
        }
    }
    copy_in(5, zero.data(), zero.size());
    ASSERT_LE(end, plan->capacity());
    plan->finish(chunk.data(), end);

    size_t nbytes = 0, cbytes = 0, blocksize = 0;
    ASSERT_EQ(blosc_cbuffer_validate(chunk.data(), end, &nbytes), 0);
    blosc_cbuffer_sizes(chunk.data(), &nbytes, &cbytes, &blocksize);
    EXPECT_EQ(nbytes, expected.size());
    EXPECT_EQ(cbytes, end);
    EXPECT_EQ(blocksize, plan->block_bytes());

    expect_decodes_to(chunk.data(), expected);
}

INSTANTIATE_TEST_SUITE_P(
  CodecsLevelsShufflesTypes,
  BloscPlanesAssembly,
  testing::Combine(testing::Values(BloscCodec::lz4, BloscCodec::zstd),
                   testing::Values(1, 5, 9),
                   testing::Values(0, 1, 2),
                   testing::Values(size_t{ 1 }, size_t{ 2 }, size_t{ 4 }, size_t{ 8 })));

// Where libzstd compresses a plane's blocks directly, with a context kept
// by the thread, the bytes are those c-blosc makes of the same plane (its
// header, block offsets and streams, blocks it cannot shrink stored as
// they are), for every level and type size, on several threads at once.
class BloscZstdBlocks : public testing::TestWithParam<std::tuple<int, int, size_t>>
{};

TEST_P(BloscZstdBlocks, AreTheBytesCBloscMakes)
{
    const auto [level, shuffle, ts] = GetParam();
    const size_t plane_bytes = 96 * 1024;
    const auto plan = BloscPlanes::plan({ BloscCodec::zstd, level, shuffle, ts }, plane_bytes, 4);
    ASSERT_TRUE(plan.has_value());
    ASSERT_TRUE(plan->compresses_zstd_blocks());

    // Smooth, noise, constant, and half of each (blocks of both kinds).
    std::vector<std::vector<uint8_t>> planes(4, smooth_data(plane_bytes));
    std::mt19937 rng(11);
    for (size_t i = 0; i < plane_bytes; ++i) {
        planes[1][i] = static_cast<uint8_t>(rng());
        if (i >= plane_bytes / 2) {
            planes[3][i] = planes[1][i];
        }
    }
    std::fill(planes[2].begin(), planes[2].end(), uint8_t{ 7 });

    std::vector<std::thread> threads;
    std::vector<int> mismatches(3, 0);
    for (size_t t = 0; t < mismatches.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 4; ++round) {
                for (const auto& plane : planes) {
                    const auto in = staged(*plan, plane.data());
                    std::vector<uint8_t> ours(plan->plane_scratch());
                    std::vector<uint8_t> theirs(plan->plane_scratch());
                    const size_t n = plan->compress_plane(in.data(), ours.data(), ours.size());
                    // What the plan hands c-blosc: the staged plane, no
                    // shuffle left to do, the plan's block size.
                    const int m = blosc_compress_ctx(
                      level, BLOSC_NOSHUFFLE, ts, plane_bytes, in.data(), theirs.data(),
                      theirs.size(), BLOSC_ZSTD_COMPNAME, static_cast<int>(plan->block_bytes()), 1);
                    if (m <= 0 || n != static_cast<size_t>(m) ||
                        std::memcmp(ours.data(), theirs.data(), n) != 0) {
                        ++mismatches[t];
                    }
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(mismatches, std::vector<int>(mismatches.size(), 0));
}

INSTANTIATE_TEST_SUITE_P(LevelsShufflesTypeSizes,
                         BloscZstdBlocks,
                         testing::Combine(testing::Values(1, 2, 5, 8, 9),
                                          testing::Values(0, 1),
                                          testing::Values(size_t{ 2 }, size_t{ 4 },
                                                          size_t{ 8 })));

TEST(BloscPlanes, LevelZeroSmallPlanesAndSinglePlanesCompressWhole)
{
    const BloscParams lz4{ BloscCodec::lz4, 1, 1, 2 };
    EXPECT_FALSE(zarr::codec::BloscPlanes::plan({ BloscCodec::lz4, 0, 1, 2 }, 65536, 8));
    EXPECT_FALSE(zarr::codec::BloscPlanes::plan(lz4, 2048, 8));
    EXPECT_FALSE(zarr::codec::BloscPlanes::plan(lz4, 65536, 1));
    EXPECT_TRUE(zarr::codec::BloscPlanes::plan(lz4, 4096, 2));
}

TEST(BloscPlanes, BuffersTooSmallForAPlaneAreRefused)
{
    const auto plan = zarr::codec::BloscPlanes::plan({ BloscCodec::lz4, 1, 1, 2 }, 65536, 4);
    ASSERT_TRUE(plan.has_value());
    const auto data = smooth_data(65536);
    std::vector<uint8_t> out(plan->plane_scratch());
    const auto code_of = [](const auto& call) {
        try {
            call();
        } catch (const zarr::Error& e) {
            return e.code();
        }
        return ZarrStatusCode_Success;
    };
    EXPECT_EQ(code_of([&] { plan->compress_plane(data.data(), out.data(), out.size() - 1); }),
              ZarrStatusCode_InternalError);
    std::vector<uint8_t> chunk(plan->begin() + plan->plane_room() - 1);
    EXPECT_EQ(code_of([&] {
                  plan->append(chunk.data(), chunk.data() + plan->begin(),
                               chunk.size() - plan->begin(), plan->begin(), 0, data.data());
              }),
              ZarrStatusCode_InternalError);
}

TEST(BloscPlanes, APlaneOfOddSizeIsOneBlock)
{
    // 3 * 4099 * 2 bytes: no power-of-two block divides it.
    const BloscParams params{ BloscCodec::zstd, 3, 2, 2 };
    const size_t plane_bytes = 3 * 4099 * 2;
    const auto plan = zarr::codec::BloscPlanes::plan(params, plane_bytes, 3);
    ASSERT_TRUE(plan.has_value());
    EXPECT_EQ(plan->block_bytes(), plane_bytes);

    const auto data = smooth_data(plane_bytes * 3);
    std::vector<uint8_t> chunk(plan->capacity());
    size_t end = plan->begin();
    for (size_t p = 0; p < 3; ++p) {
        end = append_in_place(*plan, chunk, end, p,
                           staged(*plan, data.data() + p * plane_bytes).data());
    }
    plan->finish(chunk.data(), end);
    expect_decodes_to(chunk.data(), data);
}

// The byte shuffle done while staging is Blosc's: byte j of element i goes
// to stream j at position i; for every type size it handles, any length
// (whole vectors and a tail) and any alignment of source and streams.
TEST(ShuffleBytes, PutsByteJOfElementIAtStreamJPositionI)
{
    std::mt19937 rng(3);
    for (const size_t ts : { size_t{ 2 }, size_t{ 4 }, size_t{ 8 } }) {
        ASSERT_TRUE(zarr::codec::shuffles_type_size(ts));
        for (const size_t n : { 0, 1, 15, 16, 17, 31, 32, 33, 100, 1000 }) {
            for (const size_t src_at : { 0, 1, 5 }) {
                for (const size_t stride : { n + 16 - n % 16, n + 3 }) {
                    for (const size_t dst_at : { 0, 16, 7 }) {
                        std::vector<uint8_t> src(src_at + n * ts);
                        for (auto& b : src) {
                            b = static_cast<uint8_t>(rng());
                        }
                        std::vector<uint8_t> dst(dst_at + ts * stride + 16, 0xee);
                        zarr::codec::shuffle_bytes(src.data() + src_at, n, ts,
                                                   dst.data() + dst_at, stride);
                        zarr::finish_streaming_copies();
                        for (size_t j = 0; j < ts; ++j) {
                            for (size_t i = 0; i < n; ++i) {
                                ASSERT_EQ(dst[dst_at + j * stride + i], src[src_at + i * ts + j])
                                  << "ts " << ts << " n " << n << " byte " << j << " element "
                                  << i << " src+" << src_at << " dst+" << dst_at
                                  << " stride " << stride;
                            }
                            for (size_t i = n; i < stride && j + 1 < ts; ++i) {
                                ASSERT_EQ(dst[dst_at + j * stride + i], 0xee)
                                  << "wrote past stream " << j;
                            }
                        }
                    }
                }
            }
        }
    }
    EXPECT_FALSE(zarr::codec::shuffles_type_size(1));
    EXPECT_FALSE(zarr::codec::shuffles_type_size(3));
}

// A tile at the array's edge covers part of its plane: staged row by row
// (rows that cross blocks, where a block is not a whole number of rows),
// shuffled, onto zeros, it decodes to the tile padded with zeros.
struct StagingShape
{
    size_t plane_cols, plane_rows; // elements
    size_t tile_cols, tile_rows;
};

class BloscPlanesStaging
  : public testing::TestWithParam<std::tuple<BloscCodec, size_t, StagingShape>>
{};

TEST_P(BloscPlanesStaging, RaggedTilesDecodeToTheTilePaddedWithZeros)
{
    const auto [codec, ts, shape] = GetParam();
    const size_t row_bytes = shape.plane_cols * ts;
    const size_t plane_bytes = shape.plane_rows * row_bytes;
    const auto plan = BloscPlanes::plan({ codec, 1, 1, ts }, plane_bytes, 2);
    ASSERT_TRUE(plan.has_value());
    ASSERT_TRUE(plan->shuffles_staged());
    const bool rows_cross_blocks = row_bytes % plan->block_bytes() != 0 &&
                                   plan->block_bytes() % row_bytes != 0;
    if (codec == BloscCodec::zstd && shape.plane_cols != 300) {
        // c-blosc's zstd blocks at level 1 (32 KiB) are cut mid-row here.
        EXPECT_TRUE(rows_cross_blocks) << "block " << plan->block_bytes();
    }

    // The tile, out of frames wider than the plane.
    const size_t tile_rows = shape.tile_rows;
    const size_t tile_cols = shape.tile_cols;
    const size_t frame_row_bytes = (shape.plane_cols + 7) * ts;
    const auto frame = smooth_data(2 * tile_rows * frame_row_bytes);
    std::vector<uint8_t> expected(2 * plane_bytes, 0);
    std::vector<uint8_t> chunk(plan->capacity());
    size_t end = plan->begin();
    for (size_t p = 0; p < 2; ++p) {
        const uint8_t* src = frame.data() + p * tile_rows * frame_row_bytes;
        for (size_t r = 0; r < tile_rows; ++r) {
            std::memcpy(expected.data() + p * plane_bytes + r * row_bytes,
                        src + r * frame_row_bytes, tile_cols * ts);
        }
        // An aligned staging buffer, zeroed first, as the writer's are.
        const zarr::AlignedBytes plane = zarr::allocate_aligned(plane_bytes);
        uint8_t* const at = plane.get();
        std::memset(at, 0, plane_bytes);
        plan->stage(at, row_bytes, src, frame_row_bytes, tile_rows, tile_cols * ts);
        zarr::finish_streaming_copies();
        end = append_in_place(*plan, chunk, end, p, at);
    }
    plan->finish(chunk.data(), end);
    expect_decodes_to(chunk.data(), expected);
}

INSTANTIATE_TEST_SUITE_P(CodecsAndTypeSizes,
                         BloscPlanesStaging,
                         testing::Combine(testing::Values(BloscCodec::lz4, BloscCodec::zstd),
                                          testing::Values(size_t{ 2 }, size_t{ 4 },
                                                          size_t{ 8 }),
                                          testing::Values(StagingShape{ 300, 40, 211, 29 },
                                                          StagingShape{ 6144, 16, 5000, 11 },
                                                          StagingShape{ 1536, 64, 1500, 63 })));
