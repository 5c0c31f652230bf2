#include "codec/blosc1.hh"
#include "util/error.hh"

#include <blosc.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <tuple>
#include <vector>

using zarr::codec::BloscCodec;
using zarr::codec::BloscParams;

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

    std::vector<uint8_t> back(input.size());
    ASSERT_EQ(blosc_decompress_ctx(out.data(), back.data(), back.size(), 1),
              static_cast<int>(input.size()));
    EXPECT_EQ(back, input);
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
