#include "shuffle.hh"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace zarr::codec {

bool
shuffles_type_size(size_t type_size) noexcept
{
    return type_size == 2 || type_size == 4 || type_size == 8;
}

namespace {

void
shuffle_scalar(const uint8_t* src, size_t n, size_t ts, uint8_t* dst, size_t stride)
{
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < ts; ++j) {
            dst[j * stride + i] = src[i * ts + j];
        }
    }
}

#if defined(__SSE2__)

/// 16 elements of TS bytes (TS vectors) into TS vectors of one byte each.
/// Each pass splits every pair of neighbouring vectors into their even and
/// their odd bytes, evens first: after log2(TS) passes, vector j holds byte
/// j of the 16 elements.
template<size_t TS>
inline void
split_bytes(__m128i (&v)[TS])
{
    const __m128i low = _mm_set1_epi16(0x00ff);
    for (size_t pass = 1; pass < TS; pass *= 2) {
        __m128i out[TS];
        for (size_t m = 0; m < TS / 2; ++m) {
            const __m128i a = v[2 * m];
            const __m128i b = v[2 * m + 1];
            out[m] = _mm_packus_epi16(_mm_and_si128(a, low), _mm_and_si128(b, low));
            out[TS / 2 + m] = _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8));
        }
        for (size_t k = 0; k < TS; ++k) {
            v[k] = out[k];
        }
    }
}

/// Shuffles the first n - n % 16 elements; returns how many.
template<size_t TS, bool Stream>
size_t
shuffle_sse2(const uint8_t* src, size_t n, uint8_t* dst, size_t stride)
{
    const size_t whole = n - n % 16;
    for (size_t i = 0; i < whole; i += 16) {
        __m128i v[TS];
        for (size_t k = 0; k < TS; ++k) {
            v[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * TS + 16 * k));
        }
        split_bytes<TS>(v);
        for (size_t j = 0; j < TS; ++j) {
            auto* d = reinterpret_cast<__m128i*>(dst + j * stride + i);
            if constexpr (Stream) {
                _mm_stream_si128(d, v[j]);
            } else {
                _mm_storeu_si128(d, v[j]);
            }
        }
    }
    return whole;
}

template<size_t TS>
size_t
shuffle_vectors(const uint8_t* src, size_t n, uint8_t* dst, size_t stride)
{
    // Streaming stores need every stream 16-byte aligned.
    if (reinterpret_cast<uintptr_t>(dst) % 16 == 0 && stride % 16 == 0) {
        return shuffle_sse2<TS, true>(src, n, dst, stride);
    }
    return shuffle_sse2<TS, false>(src, n, dst, stride);
}

#endif

} // namespace

void
shuffle_bytes(const uint8_t* src, size_t n, size_t type_size, uint8_t* dst, size_t stream_stride)
{
    size_t done = 0;
#if defined(__SSE2__)
    switch (type_size) {
        case 2:
            done = shuffle_vectors<2>(src, n, dst, stream_stride);
            break;
        case 4:
            done = shuffle_vectors<4>(src, n, dst, stream_stride);
            break;
        case 8:
            done = shuffle_vectors<8>(src, n, dst, stream_stride);
            break;
        default:
            break;
    }
#endif
    shuffle_scalar(src + done * type_size, n - done, type_size, dst + done, stream_stride);
}

} // namespace zarr::codec
