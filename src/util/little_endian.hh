// Little-endian integers in byte buffers (Blosc headers, shard indexes).
#pragma once

#include <cstdint>

namespace zarr {

inline uint32_t
load_le32(const uint8_t* p) noexcept
{
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

inline void
store_le32(uint8_t* dst, uint32_t v) noexcept
{
    for (int i = 0; i < 4; ++i) {
        dst[i] = static_cast<uint8_t>(v >> (8 * i));
    }
}

inline void
store_le64(uint8_t* dst, uint64_t v) noexcept
{
    for (int i = 0; i < 8; ++i) {
        dst[i] = static_cast<uint8_t>(v >> (8 * i));
    }
}

} // namespace zarr
