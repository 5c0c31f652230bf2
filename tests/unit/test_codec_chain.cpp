// The codec chain as the settings build it through the registry: which
// settings are refused and with which message, the metadata each chain
// writes, and that its encoders make the chunks c-blosc and libzstd make.
#include "codec/blosc_codec.hh"
#include "codec/registry.hh"
#include "util/error.hh"

#include <blosc.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zstd.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

using zarr::codec::chain_from_settings;
using zarr::codec::CodecChain;

namespace {

ZarrCompressionSettings
settings(ZarrCompressor compressor, ZarrCompressionCodec codec, uint8_t level, uint8_t shuffle)
{
    return { compressor, codec, level, shuffle };
}

/// The message chain_from_settings refuses `s` with ("" if it accepts it).
std::string
refusal(const ZarrCompressionSettings& s)
{
    try {
        chain_from_settings(&s, 2);
    } catch (const zarr::Error& e) {
        EXPECT_EQ(e.code(), ZarrStatusCode_InvalidSettings);
        return e.what();
    }
    return "";
}

ZarrCompressionSettings
with_raw_enums(int compressor, int codec)
{
    ZarrCompressionSettings s =
      settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscLZ4, 1, 1);
    std::memcpy(&s.compressor, &compressor, sizeof compressor);
    std::memcpy(&s.codec, &codec, sizeof codec);
    return s;
}

// libzstd's default (0), the level it stands for, and the highest.
constexpr std::array<uint8_t, 3> kZstdLevels{ 0, 3, 22 };

std::vector<uint8_t>
smooth_data(size_t n)
{
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) {
        v[i] = static_cast<uint8_t>((i / 64) % 200 + i % 3);
    }
    return v;
}

} // namespace

TEST(CodecRegistry, NoSettingsAndNoneAreTheBytesCodecAlone)
{
    EXPECT_FALSE(chain_from_settings(nullptr, 2).compresses());
    const auto none = settings(ZarrCompressor_None, ZarrCompressionCodec_None, 1, 1);
    const CodecChain chain = chain_from_settings(&none, 2);
    EXPECT_FALSE(chain.compresses());
    EXPECT_EQ(chain.encoded_bound(1000), 1000u);
    EXPECT_FALSE(chain.plane_encoder(65536, 8).has_value());
}

TEST(CodecRegistry, NoneWithAnyCodecIsUncompressedForStreamsBuiltFromArrays)
{
    using zarr::codec::NoneCompressor;
    // Any codec, and level and shuffle outside every codec's range.
    for (const auto codec : { ZarrCompressionCodec_None, ZarrCompressionCodec_BloscLZ4,
                              ZarrCompressionCodec_BloscZstd, ZarrCompressionCodec_Zstd }) {
        const auto s = settings(ZarrCompressor_None, codec, 30, 7);
        const CodecChain chain = chain_from_settings(&s, 2, NoneCompressor::ignores_codec);
        EXPECT_FALSE(chain.compresses()) << "codec " << int(codec);
        EXPECT_EQ(chain.v2_compressor(), nlohmann::ordered_json(nullptr));
        EXPECT_EQ(chain.v3_codecs().size(), 1u);
    }
    // The other bad combinations keep their refusals.
    const auto blosc_none = settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_None, 1, 1);
    try {
        chain_from_settings(&blosc_none, 2, NoneCompressor::ignores_codec);
        ADD_FAILURE() << "Blosc1 without a codec was accepted";
    } catch (const zarr::Error& e) {
        EXPECT_STREQ(e.what(), "compression_settings.codec is None (0) but compressor is "
                               "Blosc1: choose BloscLZ4 or BloscZstd");
    }
    const auto bad_enum = with_raw_enums(0, 6);
    EXPECT_THROW(chain_from_settings(&bad_enum, 2, NoneCompressor::ignores_codec),
                 zarr::Error);
}

TEST(CodecRegistry, RefusesSettingsNoCodecTakesWithTheFieldAtFault)
{
    EXPECT_EQ(refusal(with_raw_enums(3, 1)),
              "compression_settings.compressor is 3: must be a ZarrCompressor (0..2)");
    EXPECT_EQ(refusal(with_raw_enums(1, 6)),
              "compression_settings.codec is 6: must be a ZarrCompressionCodec (0..3)");
    EXPECT_EQ(refusal(settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_None, 1, 1)),
              "compression_settings.codec is None (0) but compressor is Blosc1: choose "
              "BloscLZ4 or BloscZstd");
    EXPECT_EQ(refusal(settings(ZarrCompressor_None, ZarrCompressionCodec_BloscZstd, 1, 1)),
              "compression_settings.compressor is None (0) but codec is 2: set compressor "
              "to Blosc1 or codec to None");
    EXPECT_EQ(refusal(settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscLZ4, 10, 1)),
              "compression_settings.level is 10: must be 0..9");
    EXPECT_EQ(refusal(settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscZstd, 9, 3)),
              "compression_settings.shuffle is 3: must be 0 (none), 1 (byte) or 2 (bit)");
    // Without a compressor, level and shuffle keep Blosc's ranges.
    EXPECT_EQ(refusal(settings(ZarrCompressor_None, ZarrCompressionCodec_None, 10, 0)),
              "compression_settings.level is 10: must be 0..9");
    EXPECT_EQ(refusal(settings(ZarrCompressor_None, ZarrCompressionCodec_None, 0, 3)),
              "compression_settings.shuffle is 3: must be 0 (none), 1 (byte) or 2 (bit)");
    EXPECT_EQ(refusal(settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscZstd, 9, 2)),
              "");
}

TEST(CodecChain, WritesTheBloscMetadataOfV2AndV3)
{
    const auto lz4 = settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscLZ4, 1, 1);
    const CodecChain a = chain_from_settings(&lz4, 2);
    EXPECT_EQ(a.v2_compressor().dump(),
              R"({"id":"blosc","cname":"lz4","clevel":1,"shuffle":1,"blocksize":0})");
    EXPECT_EQ(a.v3_codecs().dump(),
              R"([{"name":"bytes","configuration":{"endian":"little"}},)"
              R"({"name":"blosc","configuration":{"cname":"lz4","clevel":1,)"
              R"("shuffle":"shuffle","typesize":2,"blocksize":0}}])");

    const auto zstd = settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscZstd, 5, 2);
    const CodecChain b = chain_from_settings(&zstd, 8);
    EXPECT_EQ(b.v2_compressor().dump(),
              R"({"id":"blosc","cname":"zstd","clevel":5,"shuffle":2,"blocksize":0})");
    EXPECT_EQ(b.v3_codecs()[1].dump(),
              R"({"name":"blosc","configuration":{"cname":"zstd","clevel":5,)"
              R"("shuffle":"bitshuffle","typesize":8,"blocksize":0}})");

    const CodecChain raw;
    EXPECT_TRUE(raw.v2_compressor().is_null());
    EXPECT_EQ(raw.v3_codecs().dump(), R"([{"name":"bytes","configuration":{"endian":"little"}}])");
    const auto none = settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscZstd, 0, 0);
    EXPECT_EQ(chain_from_settings(&none, 1).v3_codecs()[1]["configuration"]["shuffle"],
              "noshuffle");
}

TEST(CodecChain, EncodesTheChunkCBloscMakes)
{
    const auto zstd = settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscZstd, 3, 1);
    const CodecChain chain = chain_from_settings(&zstd, 2);
    ASSERT_TRUE(chain.compresses());
    EXPECT_STREQ(chain.compressor()->name(), "blosc");
    const auto input = smooth_data(1 << 20);
    std::vector<uint8_t> ours(chain.encoded_bound(input.size()));
    const size_t n = chain.encode(input.data(), input.size(), ours.data(), ours.size());
    std::vector<uint8_t> theirs(input.size() + BLOSC_MAX_OVERHEAD);
    const int m = blosc_compress_ctx(3, 1, 2, input.size(), input.data(), theirs.data(),
                                     theirs.size(), "zstd", 0, 1);
    ASSERT_EQ(n, static_cast<size_t>(m));
    EXPECT_EQ(std::memcmp(ours.data(), theirs.data(), n), 0);
}

TEST(CodecChain, BloscEncodesPlanesApartFromLevelOne)
{
    const auto level0 = settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscLZ4, 0, 1);
    EXPECT_FALSE(chain_from_settings(&level0, 2).plane_encoder(65536, 8).has_value());
    const auto level1 = settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscLZ4, 1, 1);
    const auto planes = chain_from_settings(&level1, 2).plane_encoder(65536, 8);
    ASSERT_TRUE(planes.has_value());
    EXPECT_EQ(planes->plane_bytes(), 65536u);
    EXPECT_EQ(planes->planes(), 8u);
}

TEST(CodecRegistry, ZstdRefusesShuffleLevelsAbove22AndOtherCodecsWithTheFieldAtFault)
{
    EXPECT_EQ(refusal(settings(ZarrCompressor_Zstd, ZarrCompressionCodec_Zstd, 3, 1)),
              "compression_settings.shuffle is 1: must be 0 (Zstd does not shuffle)");
    EXPECT_EQ(refusal(settings(ZarrCompressor_Zstd, ZarrCompressionCodec_Zstd, 23, 0)),
              "compression_settings.level is 23: must be 0..22");
    EXPECT_EQ(refusal(settings(ZarrCompressor_Zstd, ZarrCompressionCodec_BloscZstd, 3, 0)),
              "compression_settings.codec is 2 but compressor is Zstd: choose Zstd");
    EXPECT_EQ(refusal(settings(ZarrCompressor_Zstd, ZarrCompressionCodec_None, 3, 0)),
              "compression_settings.codec is None (0) but compressor is Zstd: choose Zstd");
    EXPECT_EQ(refusal(settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_Zstd, 3, 0)),
              "compression_settings.codec is 3 but compressor is Blosc1: choose BloscLZ4 "
              "or BloscZstd");
    EXPECT_EQ(refusal(settings(ZarrCompressor_None, ZarrCompressionCodec_Zstd, 3, 0)),
              "compression_settings.compressor is None (0) but codec is 3: set compressor "
              "to Zstd or codec to None");
    // Blosc keeps its own ranges beside Zstd's.
    EXPECT_EQ(refusal(settings(ZarrCompressor_Blosc1, ZarrCompressionCodec_BloscZstd, 10, 0)),
              "compression_settings.level is 10: must be 0..9");
    for (const uint8_t level : std::to_array<uint8_t>({ 0, 1, 3, 9, 10, 22 })) {
        EXPECT_EQ(refusal(settings(ZarrCompressor_Zstd, ZarrCompressionCodec_Zstd, level, 0)),
                  "")
          << "level " << int(level);
    }
}

TEST(CodecChain, WritesTheZstdMetadataOfV2AndV3WithTheLevelAsGiven)
{
    for (const uint8_t level : kZstdLevels) {
        const auto zstd = settings(ZarrCompressor_Zstd, ZarrCompressionCodec_Zstd, level, 0);
        const CodecChain chain = chain_from_settings(&zstd, 4);
        const std::string l = std::to_string(level);
        EXPECT_EQ(chain.v2_compressor().dump(), R"({"id":"zstd","level":)" + l + "}");
        EXPECT_EQ(chain.v3_codecs().dump(),
                  R"([{"name":"bytes","configuration":{"endian":"little"}},)"
                  R"({"name":"zstd","configuration":{"level":)" +
                    l + R"(,"checksum":false}}])");
    }
}

TEST(CodecChain, ZstdEncodesTheFrameLibzstdMakesAndNoPlanes)
{
    const auto input = smooth_data(1 << 20);
    for (const uint8_t level : kZstdLevels) {
        const auto zstd = settings(ZarrCompressor_Zstd, ZarrCompressionCodec_Zstd, level, 0);
        const CodecChain chain = chain_from_settings(&zstd, 2);
        ASSERT_TRUE(chain.compresses());
        EXPECT_STREQ(chain.compressor()->name(), "zstd");
        EXPECT_FALSE(chain.plane_encoder(65536, 8).has_value());
        EXPECT_EQ(chain.encoded_bound(input.size()), ZSTD_compressBound(input.size()));

        std::vector<uint8_t> ours(chain.encoded_bound(input.size()));
        const size_t n = chain.encode(input.data(), input.size(), ours.data(), ours.size());
        std::vector<uint8_t> theirs(ZSTD_compressBound(input.size()));
        const size_t m =
          ZSTD_compress(theirs.data(), theirs.size(), input.data(), input.size(), level);
        ASSERT_FALSE(ZSTD_isError(m));
        ASSERT_EQ(n, m) << "level " << int(level);
        EXPECT_EQ(std::memcmp(ours.data(), theirs.data(), n), 0) << "level " << int(level);

        // One frame that says its content size, as numcodecs' decoder needs.
        EXPECT_EQ(ZSTD_getFrameContentSize(ours.data(), n), input.size());
        std::vector<uint8_t> back(input.size());
        EXPECT_EQ(ZSTD_decompress(back.data(), back.size(), ours.data(), n), input.size());
        EXPECT_EQ(back, input);
    }
    // Level 0 is libzstd's default level, 3.
    const auto l0 = settings(ZarrCompressor_Zstd, ZarrCompressionCodec_Zstd, 0, 0);
    const auto l3 = settings(ZarrCompressor_Zstd, ZarrCompressionCodec_Zstd, 3, 0);
    std::vector<uint8_t> a(ZSTD_compressBound(input.size())), b(a.size());
    const size_t na =
      chain_from_settings(&l0, 2).encode(input.data(), input.size(), a.data(), a.size());
    const size_t nb =
      chain_from_settings(&l3, 2).encode(input.data(), input.size(), b.data(), b.size());
    ASSERT_EQ(na, nb);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), na), 0);
}

TEST(CodecChain, ZstdRefusesADestinationTooSmallAsACompressionError)
{
    const auto zstd = settings(ZarrCompressor_Zstd, ZarrCompressionCodec_Zstd, 1, 0);
    const CodecChain chain = chain_from_settings(&zstd, 1);
    std::vector<uint8_t> input(4096);
    for (size_t i = 0; i < input.size(); ++i) {
        input[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
    }
    std::vector<uint8_t> dst(16);
    try {
        chain.encode(input.data(), input.size(), dst.data(), dst.size());
        FAIL() << "encoded 4096 incompressible bytes into 16";
    } catch (const zarr::Error& e) {
        EXPECT_EQ(e.code(), ZarrStatusCode_CompressionError);
        EXPECT_NE(std::string(e.what()).find("ZSTD_compressCCtx failed"), std::string::npos)
          << e.what();
    }
}
