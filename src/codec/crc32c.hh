// CRC-32C (Castagnoli), as the Zarr v3 crc32c codec defines it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zarr::codec {

/// CRC-32C of `n` bytes: reflected polynomial 0x82F63B78, initial value and
/// final xor 0xFFFFFFFF. crc32c("123456789") == 0xE3069283.
uint32_t
crc32c(const void* data, size_t n) noexcept;

} // namespace zarr::codec
