// Blosc's byte shuffle, done while copying: the appending thread stages a
// chunk's plane already shuffled, so that the workers compress it with the
// shuffle off (see BloscPlanes::stage). c-blosc's own shuffle reads the
// staged plane from memory a second time (benchmarks/README.md:
// shuffle-staging).
#pragma once

#include <cstddef>
#include <cstdint>

namespace zarr::codec {

/// Whether shuffle_bytes() handles elements of `type_size` bytes (2, 4 and
/// 8: the sizes that a byte shuffle changes, in one vector pass each).
bool
shuffles_type_size(size_t type_size) noexcept;

/// Byte-shuffles `n` elements of `type_size` bytes (shuffles_type_size())
/// from `src` into `type_size` streams `stream_stride` bytes apart: byte j
/// of element i goes to dst[j * stream_stride + i]. Uses streaming stores
/// where the streams are 16-byte aligned: the caller ends a batch with
/// finish_streaming_copies().
void
shuffle_bytes(const uint8_t* src,
              size_t n,
              size_t type_size,
              uint8_t* dst,
              size_t stream_stride);

} // namespace zarr::codec
