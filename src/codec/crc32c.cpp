#include "crc32c.hh"

#include <array>

namespace zarr::codec {
namespace {
// Only shard indexes (16 bytes per inner chunk) are checksummed, so a
// byte-wise table is fast enough and keeps this portable.
constexpr std::array<uint32_t, 256>
make_table()
{
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) {
            c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        }
        table[i] = c;
    }
    return table;
}
constexpr auto kTable = make_table();
} // namespace

uint32_t
crc32c(const void* data, size_t n) noexcept
{
    const auto* p = static_cast<const uint8_t*>(data);
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) {
        crc = kTable[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    }
    return crc ^ 0xFFFFFFFFu;
}

} // namespace zarr::codec
