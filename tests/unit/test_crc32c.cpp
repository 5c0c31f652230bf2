#include "codec/crc32c.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using zarr::codec::crc32c;

TEST(Crc32c, Of123456789IsTheCatalogueCheckValue)
{
    const std::string s = "123456789";
    EXPECT_EQ(crc32c(s.data(), s.size()), 0xE3069283u);
}

TEST(Crc32c, EmptyInputIsZero)
{
    EXPECT_EQ(crc32c(nullptr, 0), 0u);
}

TEST(Crc32c, MatchesTheRfc3720TestPatterns)
{
    // iSCSI (RFC 3720, B.4) test patterns.
    std::vector<uint8_t> zeros(32, 0x00);
    EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
    std::vector<uint8_t> ones(32, 0xFF);
    EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
    std::vector<uint8_t> inc(32);
    for (size_t i = 0; i < inc.size(); ++i) {
        inc[i] = static_cast<uint8_t>(i);
    }
    EXPECT_EQ(crc32c(inc.data(), inc.size()), 0x46DD794Eu);
}
