#include "registry.hh"

#include "../util/error.hh"
#include "../util/raw_enum.hh"

#include <memory>
#include <string>
#include <vector>

namespace zarr::codec {

// Each codec's factory, defined in the codec's own file.
std::shared_ptr<const ChunkCodec> make_blosc(const CodecSettings& s);
std::shared_ptr<const ChunkCodec> make_zstd(const CodecSettings& s);

namespace {

using Factory = std::shared_ptr<const ChunkCodec> (*)(const CodecSettings&);

struct Entry
{
    ZarrCompressor compressor;
    const char* compressor_name; // as the messages name the enum values
    ZarrCompressionCodec codec;
    const char* codec_name;
    int max_level; // levels are 0..max_level
    int max_shuffle;
    const char* shuffles; // the accepted shuffles, for the message
    Factory make;         // nullptr: no compressor
};

constexpr const char* kBloscShuffles = "0 (none), 1 (byte) or 2 (bit)";
constexpr const char* kNoShuffle = "0 (Zstd does not shuffle)";

// One row per (compressor, codec) pair the settings accept. Without a
// compressor, level and shuffle are still held to Blosc's ranges.
constexpr Entry kCodecs[] = {
    { ZarrCompressor_None, "None", ZarrCompressionCodec_None, "None", 9, 2, kBloscShuffles,
      nullptr },
    { ZarrCompressor_Blosc1, "Blosc1", ZarrCompressionCodec_BloscLZ4, "BloscLZ4", 9, 2,
      kBloscShuffles, make_blosc },
    { ZarrCompressor_Blosc1, "Blosc1", ZarrCompressionCodec_BloscZstd, "BloscZstd", 9, 2,
      kBloscShuffles, make_blosc },
    // libzstd's levels: 0 is its default (3), 22 its highest.
    { ZarrCompressor_Zstd, "Zstd", ZarrCompressionCodec_Zstd, "Zstd", 22, 0, kNoShuffle,
      make_zstd },
};

[[noreturn]] void
invalid(const std::string& message)
{
    throw Error(ZarrStatusCode_InvalidSettings, message);
}

/// The first row that `match` accepts; every enum value in range has one.
template<typename Match>
const Entry&
first_row(Match match)
{
    for (const Entry& e : kCodecs) {
        if (match(e)) {
            return e;
        }
    }
    fail(ZarrStatusCode_InternalError, "a compression setting has no codec registry row");
}

/// The codecs `compressor` takes, as a choice: "A", "A or B", "A, B or C".
std::string
codecs_of(ZarrCompressor compressor)
{
    std::vector<const char*> names;
    for (const Entry& e : kCodecs) {
        if (e.compressor == compressor) {
            names.push_back(e.codec_name);
        }
    }
    std::string choice;
    for (size_t i = 0; i < names.size(); ++i) {
        choice += i == 0 ? "" : i + 1 == names.size() ? " or " : ", ";
        choice += names[i];
    }
    return choice;
}

/// The row for the pair, or a refusal that says what to set instead.
const Entry&
row_of(ZarrCompressor compressor, ZarrCompressionCodec codec)
{
    for (const Entry& e : kCodecs) {
        if (e.compressor == compressor && e.codec == codec) {
            return e;
        }
    }
    if (compressor == ZarrCompressor_None) {
        const Entry& takes = first_row([&](const Entry& e) { return e.codec == codec; });
        invalid(cat("compression_settings.compressor is None (0) but codec is ",
                    static_cast<int>(codec), ": set compressor to ", takes.compressor_name,
                    " or codec to None"));
    }
    const Entry& named =
      first_row([&](const Entry& e) { return e.compressor == compressor; });
    invalid(cat("compression_settings.codec is ",
                codec == ZarrCompressionCodec_None ? "None (0)"
                                                   : std::to_string(static_cast<int>(codec)),
                " but compressor is ", named.compressor_name, ": choose ",
                codecs_of(compressor)));
}

} // namespace

CodecChain
chain_from_settings(const ZarrCompressionSettings* settings,
                    size_t item_bytes,
                    NoneCompressor none)
{
    if (settings == nullptr) {
        return {};
    }
    const ZarrCompressionSettings& c = *settings;
    if (static_cast<unsigned>(raw_enum(c.compressor)) >= ZarrCompressorCount) {
        invalid(cat("compression_settings.compressor is ", raw_enum(c.compressor),
                    ": must be a ZarrCompressor (0..", ZarrCompressorCount - 1, ")"));
    }
    if (static_cast<unsigned>(raw_enum(c.codec)) >= ZarrCompressionCodecCount) {
        invalid(cat("compression_settings.codec is ", raw_enum(c.codec),
                    ": must be a ZarrCompressionCodec (0..", ZarrCompressionCodecCount - 1,
                    ")"));
    }
    if (c.compressor == ZarrCompressor_None && none == NoneCompressor::ignores_codec) {
        return {};
    }
    const Entry& row = row_of(c.compressor, c.codec);
    if (c.level > row.max_level) {
        invalid(cat("compression_settings.level is ", int(c.level), ": must be 0..",
                    row.max_level));
    }
    if (c.shuffle > row.max_shuffle) {
        invalid(cat("compression_settings.shuffle is ", int(c.shuffle), ": must be ",
                    row.shuffles));
    }
    if (row.make == nullptr) {
        return {};
    }
    return CodecChain(row.make({ c.codec, c.level, c.shuffle, item_bytes }));
}

} // namespace zarr::codec
