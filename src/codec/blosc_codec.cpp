#include "blosc_codec.hh"

#include <nlohmann/json.hpp>

#include <memory>

namespace zarr::codec {
namespace {

const char*
v3_shuffle(int shuffle)
{
    switch (shuffle) {
        case 0:
            return "noshuffle";
        case 1:
            return "shuffle";
        default:
            return "bitshuffle";
    }
}

} // namespace

size_t
BloscChunkCodec::encoded_bound(size_t n) const noexcept
{
    return blosc_max_compressed_size(n);
}

size_t
BloscChunkCodec::encode(const uint8_t* src, size_t n, uint8_t* dst, size_t dst_capacity) const
{
    return blosc_compress(params_, src, n, dst, dst_capacity);
}

json
BloscChunkCodec::v2_metadata() const
{
    return { { "id", "blosc" },
             { "cname", blosc_codec_name(params_.codec) },
             { "clevel", params_.level },
             { "shuffle", params_.shuffle },
             { "blocksize", 0 } };
}

json
BloscChunkCodec::v3_metadata() const
{
    return { { "name", "blosc" },
             { "configuration",
               { { "cname", blosc_codec_name(params_.codec) },
                 { "clevel", params_.level },
                 { "shuffle", v3_shuffle(params_.shuffle) },
                 { "typesize", params_.type_size },
                 { "blocksize", 0 } } } };
}

std::optional<BloscPlanes>
BloscChunkCodec::plane_encoder(size_t plane_bytes, size_t planes) const
{
    return BloscPlanes::plan(params_, plane_bytes, planes);
}

/// The registry's factory (registry.cpp): BloscLZ4 and BloscZstd.
std::shared_ptr<const ChunkCodec>
make_blosc(const CodecSettings& s)
{
    BloscParams params;
    params.codec =
      s.codec == ZarrCompressionCodec_BloscZstd ? BloscCodec::zstd : BloscCodec::lz4;
    params.level = s.level;
    params.shuffle = s.shuffle;
    params.type_size = s.item_bytes;
    return std::make_shared<const BloscChunkCodec>(params);
}

} // namespace zarr::codec
