// Blosc1 compression through c-blosc's context API: one internal thread per
// call, so chunks are compressed in parallel by the caller's thread pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace zarr::codec {

enum class BloscCodec
{
    lz4,
    zstd,
};

struct BloscParams
{
    BloscCodec codec = BloscCodec::lz4;
    int level = 1;          // 0..9
    int shuffle = 1;        // 0 none, 1 byte, 2 bit
    size_t type_size = 1;   // bytes per element
};

/// The c-blosc compressor name ("lz4", "zstd").
const char*
blosc_codec_name(BloscCodec codec) noexcept;

/// Worst-case compressed size of `n` input bytes.
size_t
blosc_max_compressed_size(size_t n) noexcept;

/// Compresses `n` bytes of `src` into `dst`, which holds at least
/// blosc_max_compressed_size(n) bytes. Returns the compressed size. Throws
/// zarr::Error(CompressionError) on failure.
size_t
blosc_compress(const BloscParams& params,
               const uint8_t* src,
               size_t n,
               uint8_t* dst,
               size_t dst_capacity);

/// The c-blosc library version, e.g. "1.21.3".
std::string
blosc_version();

} // namespace zarr::codec
