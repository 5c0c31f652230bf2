// ZarrStream_create_sized against a real S3 server (ctest runs it through
// tests/s3/s3server.py): a caller compiled against headers from before
// s3_addressing_style passes a shorter ZarrStreamSettings, and the library
// must not read the bytes past it. The struct is placed so that it ends
// where a PROT_NONE page begins: a read of the field would fault.
#include "acquire.zarr.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

std::string
env(const char* name)
{
    const char* v = std::getenv(name);
    return v ? v : "";
}

/// Size of the ZarrStreamSettings of the headers before s3_addressing_style.
constexpr size_t kSizeBeforeAddressing = offsetof(ZarrStreamSettings, s3_addressing_style);

/// Two pages, the second unreadable; `at(n)` is where a struct of n bytes
/// starts so that its last byte is the last readable one.
class GuardedBytes
{
  public:
    GuardedBytes()
      : page_(static_cast<size_t>(::sysconf(_SC_PAGESIZE)))
    {
        void* p = ::mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            throw std::runtime_error("mmap failed");
        }
        base_ = static_cast<uint8_t*>(p);
        if (::mprotect(base_ + page_, page_, PROT_NONE) != 0) {
            throw std::runtime_error("mprotect failed");
        }
    }
    ~GuardedBytes() { ::munmap(base_, 2 * page_); }
    GuardedBytes(const GuardedBytes&) = delete;
    GuardedBytes& operator=(const GuardedBytes&) = delete;

    ZarrStreamSettings* at(size_t n) { return reinterpret_cast<ZarrStreamSettings*>(base_ + page_ - n); }

  private:
    size_t page_;
    uint8_t* base_ = nullptr;
};

class SettingsSize : public testing::Test
{
  protected:
    void SetUp() override
    {
        if (env("ACQUIRE_ZARR_TEST_S3_ENDPOINT").empty()) {
            GTEST_SKIP() << "needs a server: run through tests/s3/s3server.py";
        }
        Zarr_set_log_level(ZarrLogLevel_None);
        endpoint_ = env("ACQUIRE_ZARR_TEST_S3_ENDPOINT"); // http://127.0.0.1:<port>
        bucket_ = env("ACQUIRE_ZARR_TEST_S3_BUCKET");
        s3_ = { endpoint_.c_str(), bucket_.c_str(), nullptr };
        prefix_ = "settings-size-" + std::to_string(::getpid()) + "/" +
                  testing::UnitTest::GetInstance()->current_test_info()->name();
    }

    /// `n` bytes of settings for a small S3 stream, at `out`.
    void fill(ZarrStreamSettings* out, size_t n)
    {
        ZarrStreamSettings s{};
        s.store_path = prefix_.c_str();
        s.s3_settings = &s3_;
        s.dimensions = dims_;
        s.dimension_count = 3;
        s.data_type = ZarrDataType_uint16;
        s.version = ZarrVersion_3;
        std::memcpy(static_cast<void*>(out), &s, n);
    }

    /// Appends two frames and closes: the stream works path-style.
    static void write_and_close(ZarrStream* stream)
    {
        ASSERT_NE(stream, nullptr) << Zarr_get_last_error();
        const std::vector<uint16_t> frames(2 * 8 * 8, 7);
        size_t written = 0;
        EXPECT_EQ(ZarrStream_append(stream, frames.data(), frames.size() * 2, &written),
                  ZarrStatusCode_Success);
        EXPECT_EQ(written, frames.size() * 2);
        EXPECT_EQ(ZarrStream_close(stream), ZarrStatusCode_Success);
    }

    std::string endpoint_, bucket_, prefix_;
    ZarrS3Settings s3_{};
    ZarrDimensionProperties dims_[3] = {
        { "t", ZarrDimensionType_Time, 0, 2, 1, nullptr, 0.0 },
        { "y", ZarrDimensionType_Space, 8, 8, 1, nullptr, 0.0 },
        { "x", ZarrDimensionType_Space, 8, 8, 1, nullptr, 0.0 },
    };
};

TEST_F(SettingsSize, SettingsOfTheSizeBeforeAddressingAreReadWithoutTheBytesPastThem)
{
    GuardedBytes bytes;
    ZarrStreamSettings* s = bytes.at(kSizeBeforeAddressing);
    fill(s, kSizeBeforeAddressing);
    write_and_close(ZarrStream_create_sized(s, kSizeBeforeAddressing));
}

TEST_F(SettingsSize, SettingsOfThe01SizeAreReadWithoutTheBytesPastThem)
{
    GuardedBytes bytes;
    ZarrStreamSettings* s = bytes.at(ZARR_STREAM_SETTINGS_SIZE_V0_1);
    fill(s, ZARR_STREAM_SETTINGS_SIZE_V0_1);
    // The exported symbol, as a binary built against 0.1 headers calls it
    // (the header's ZarrStream_create macro passes today's size).
    write_and_close((ZarrStream_create)(s));
}

TEST_F(SettingsSize, AddressingPastTheCallersSizeIsPathStyleWhateverTheBytesThere)
{
    // Virtual-host addressing with an IP-address endpoint is refused when
    // the caller's size covers the field; the same bytes with a size that
    // ends before it are a path-style stream.
    ZarrStreamSettings s{};
    fill(&s, sizeof s);
    s.s3_addressing_style = ZarrS3AddressingStyle_VirtualHost;
    EXPECT_EQ(ZarrStream_create_sized(&s, sizeof s), nullptr);
    const std::string error = Zarr_get_last_error();
    EXPECT_NE(error.find("s3_settings.endpoint '" + endpoint_ + "' is an IP address"),
              std::string::npos)
      << error;
    write_and_close(ZarrStream_create_sized(&s, kSizeBeforeAddressing));
}

} // namespace
