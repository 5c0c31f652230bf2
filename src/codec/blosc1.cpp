#include "blosc1.hh"

#include "../util/error.hh"

#include <blosc.h>
#include <climits>

namespace zarr::codec {

const char*
blosc_codec_name(BloscCodec codec) noexcept
{
    switch (codec) {
        case BloscCodec::lz4:
            return BLOSC_LZ4_COMPNAME;
        case BloscCodec::zstd:
            return BLOSC_ZSTD_COMPNAME;
    }
    return "?";
}

size_t
blosc_max_compressed_size(size_t n) noexcept
{
    return n + BLOSC_MAX_OVERHEAD;
}

size_t
blosc_compress(const BloscParams& params,
               const uint8_t* src,
               size_t n,
               uint8_t* dst,
               size_t dst_capacity)
{
    if (n > static_cast<size_t>(BLOSC_MAX_BUFFERSIZE)) {
        fail(ZarrStatusCode_CompressionError,
             "chunk of ",
             n,
             " bytes exceeds Blosc1's limit of ",
             BLOSC_MAX_BUFFERSIZE,
             " bytes");
    }
    // Blosc treats type sizes above 255 as 1; ours are at most 8.
    const int written = blosc_compress_ctx(params.level,
                                           params.shuffle,
                                           params.type_size,
                                           n,
                                           src,
                                           dst,
                                           dst_capacity,
                                           blosc_codec_name(params.codec),
                                           0, // automatic block size
                                           1);
    if (written <= 0) {
        fail(ZarrStatusCode_CompressionError,
             "blosc_compress_ctx failed (code ",
             written,
             ") compressing ",
             n,
             " bytes with ",
             blosc_codec_name(params.codec),
             " level ",
             params.level,
             " shuffle ",
             params.shuffle);
    }
    return static_cast<size_t>(written);
}

std::string
blosc_version()
{
    return BLOSC_VERSION_STRING;
}

} // namespace zarr::codec
