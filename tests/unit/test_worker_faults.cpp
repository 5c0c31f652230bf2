// A worker that fails to compress: the real codec refuses the chunk (c-blosc
// rejects a level of 10), the failure is recorded once with its cause, the
// pool drains without hanging, the chunks queued after it are skipped, and
// no object appears for the chunks that failed.
#include "codec/blosc_codec.hh"
#include "recorded_error.hh"
#include "storage/store.hh"
#include "temp_dir.hh"
#include "util/error.hh"
#include "util/thread_pool.hh"
#include "zarr/array_writer.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <vector>

namespace fs = std::filesystem;
using namespace zarr;

namespace {

ArraySpec
spec(ZarrVersion version, int level)
{
    ArraySpec s;
    s.key = "0";
    s.version = version;
    s.dtype = ZarrDataType_uint16;
    s.dims = { { "t", ZarrDimensionType_Time, 0, 2, 2, "", 1.0 },
               { "y", ZarrDimensionType_Space, 32, 16, 2, "", 1.0 },
               { "x", ZarrDimensionType_Space, 32, 16, 2, "", 1.0 } };
    // Made directly: the settings' registry refuses a level of 10.
    s.codecs = codec::CodecChain(std::make_shared<codec::BloscChunkCodec>(
      codec::BloscParams{ codec::BloscCodec::lz4, level, 1, 2 }));
    return s;
}

using WorkerFaults =
  test::TempDirTest<test::TempDir::Start::absent, testing::TestWithParam<ZarrVersion>>;

} // namespace

TEST_P(WorkerFaults, CompressionFailureIsRecordedAndNothingHangs)
{
    auto store = storage::make_filesystem_store(root_.string());
    FirstError errors;
    {
        ThreadPool pool(2, 8, 1 << 20, errors);
        ArrayWriter writer(spec(GetParam(), 10), *store, pool, errors);
        std::vector<uint16_t> frame(32 * 32, 7);
        for (int i = 0; i < 8; ++i) { // 4 chunk rows, 16 chunks
            writer.append_frame(reinterpret_cast<const uint8_t*>(frame.data()));
        }
        writer.flush();
        pool.wait_idle(); // returns: the failed jobs and the skipped ones drained
        writer.finalize_shards();
    }
    ASSERT_TRUE(errors.failed());
    const Error failure = test::recorded_error(errors);
    EXPECT_EQ(failure.code(), ZarrStatusCode_CompressionError);
    const std::string what = failure.what();
    EXPECT_NE(what.find("blosc_compress_ctx failed"), std::string::npos) << what;
    EXPECT_NE(what.find("level 10"), std::string::npos) << what;
    // No chunk object was written for data that never got compressed.
    size_t chunk_files = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
        const auto name = e.path().filename().string();
        if (e.is_regular_file() && name != "zarr.json" && name != ".zarray") {
            ++chunk_files;
        }
    }
    if (GetParam() == ZarrVersion_2) {
        EXPECT_EQ(chunk_files, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Versions, WorkerFaults,
                         testing::Values(ZarrVersion_2, ZarrVersion_3),
                         [](const testing::TestParamInfo<ZarrVersion>& p) {
                             return p.param == ZarrVersion_2 ? std::string("v2")
                                                             : std::string("v3");
                         });
