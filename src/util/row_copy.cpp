#include "row_copy.hh"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace zarr {

void
copy_rows(uint8_t* dst,
          size_t dst_stride,
          const uint8_t* src,
          size_t src_stride,
          uint64_t rows,
          size_t row_bytes)
{
#if defined(__SSE2__)
    if (row_bytes % 64 == 0 && dst_stride % 16 == 0 &&
        reinterpret_cast<uintptr_t>(dst) % 16 == 0) {
        for (uint64_t r = 0; r < rows; ++r) {
            auto* d = reinterpret_cast<__m128i*>(dst);
            const auto* s = reinterpret_cast<const __m128i*>(src);
            for (size_t i = 0; i < row_bytes / 16; i += 4) {
                const __m128i a = _mm_loadu_si128(s + i);
                const __m128i b = _mm_loadu_si128(s + i + 1);
                const __m128i c = _mm_loadu_si128(s + i + 2);
                const __m128i e = _mm_loadu_si128(s + i + 3);
                _mm_stream_si128(d + i, a);
                _mm_stream_si128(d + i + 1, b);
                _mm_stream_si128(d + i + 2, c);
                _mm_stream_si128(d + i + 3, e);
            }
            dst += dst_stride;
            src += src_stride;
        }
        return;
    }
#endif
    for (uint64_t r = 0; r < rows; ++r) {
        std::memcpy(dst, src, row_bytes);
        dst += dst_stride;
        src += src_stride;
    }
}

void
finish_streaming_copies()
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

} // namespace zarr
