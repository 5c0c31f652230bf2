#include "codec_chain.hh"

#include <nlohmann/json.hpp>

namespace zarr::codec {

std::optional<BloscPlanes>
ChunkCodec::plane_encoder(size_t, size_t) const
{
    return std::nullopt;
}

std::optional<BloscPlanes>
CodecChain::plane_encoder(size_t plane_bytes, size_t planes) const
{
    if (!compressor_) {
        return std::nullopt;
    }
    return compressor_->plane_encoder(plane_bytes, planes);
}

json
CodecChain::v2_compressor() const
{
    return compressor_ ? compressor_->v2_metadata() : json(nullptr);
}

json
CodecChain::v3_codecs() const
{
    json codecs = json::array({ bytes_codec_v3() });
    if (compressor_) {
        codecs.push_back(compressor_->v3_metadata());
    }
    return codecs;
}

json
bytes_codec_v3()
{
    return { { "name", "bytes" }, { "configuration", { { "endian", "little" } } } };
}

} // namespace zarr::codec
