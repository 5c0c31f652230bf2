#include "storage/fs_store.hh"
#include "temp_dir.hh"
#include "util/buffer_pool.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using zarr::storage::FilesystemStoreConfig;
using zarr::storage::make_filesystem_store;
using zarr::storage::open_filesystem_store;

namespace {

class FilesystemStore : public zarr::test::TempDirTest<>
{
  protected:
    std::string read(const fs::path& p)
    {
        std::ifstream in(p, std::ios::binary);
        return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
    }
};

} // namespace

TEST_F(FilesystemStore, CreatesTheRoot)
{
    auto store = make_filesystem_store(root_.string());
    EXPECT_TRUE(fs::is_directory(root_));
}

TEST_F(FilesystemStore, PositionalWritesFromSeveralThreadsLandAtTheirOffsets)
{
    auto store = make_filesystem_store(root_.string());
    auto sink = store->open_sink("a/b/c/shard");
    constexpr size_t kPiece = 4096;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            std::vector<uint8_t> data(kPiece, static_cast<uint8_t>('A' + t));
            sink->write(static_cast<uint64_t>(3 - t) * kPiece, data.data(), data.size());
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    sink->finalize();
    const std::string content = read(root_ / "a/b/c/shard");
    ASSERT_EQ(content.size(), 4 * kPiece);
    EXPECT_EQ(content[0], 'D');
    EXPECT_EQ(content[3 * kPiece], 'A');
}

TEST_F(FilesystemStore, WritePartsLaysThemOutBackToBack)
{
    // Page-aligned parts (direct I/O where the filesystem has it), then
    // parts of any size and address (buffered), empty parts among them, and
    // more parts than one system call takes.
    auto store = make_filesystem_store(root_.string());
    auto sink = store->open_sink("parts");
    std::vector<zarr::AlignedBytes> aligned;
    std::vector<std::span<const uint8_t>> parts;
    std::string expected;
    for (int i = 0; i < 3; ++i) {
        aligned.push_back(zarr::allocate_aligned(8192));
        std::memset(aligned.back().get(), 'a' + i, 8192);
        parts.emplace_back(aligned.back().get(), 8192);
        expected += std::string(8192, static_cast<char>('a' + i));
    }
    sink->write_parts(0, parts);

    std::vector<std::string> pieces;
    for (int i = 0; i < 150; ++i) {
        pieces.emplace_back(static_cast<size_t>(i % 7 == 0 ? 0 : 1 + (i * 37) % 501),
                            static_cast<char>('A' + i % 26));
    }
    parts.clear();
    std::string tail;
    for (const auto& piece : pieces) {
        parts.emplace_back(reinterpret_cast<const uint8_t*>(piece.data()), piece.size());
        tail += piece;
    }
    sink->write_parts(expected.size() + 100, parts);
    expected += std::string(100, '\0') + tail;
    sink->finalize();
    EXPECT_EQ(read(root_ / "parts"), expected);
}

TEST_F(FilesystemStore, WholeObjectExistsOnlyOncePut)
{
    auto store = make_filesystem_store(root_.string());
    EXPECT_FALSE(store->exists("x/y"));
    EXPECT_FALSE(store->get("x/y").has_value());
    const std::string data = "hello";
    const std::span<const uint8_t> part(reinterpret_cast<const uint8_t*>(data.data()),
                                        data.size());
    store->put_parts("x/y", std::span(&part, 1));
    EXPECT_TRUE(store->exists("x/y"));
    EXPECT_EQ(store->get("x/y").value(), "hello");
}

TEST_F(FilesystemStore, PutAtomicReplacesAndLeavesNoTemporaries)
{
    auto store = make_filesystem_store(root_.string());
    store->put_atomic("g/zarr.json", "{\"first\": 1}");
    store->put_atomic("g/zarr.json", "{\"second\": 2}");
    EXPECT_EQ(read(root_ / "g/zarr.json"), "{\"second\": 2}");
    size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
        files += e.is_regular_file();
    }
    EXPECT_EQ(files, 1u);
}

TEST_F(FilesystemStore, ClearEmptiesTheRootButKeepsIt)
{
    auto store = make_filesystem_store(root_.string());
    store->put_atomic("a/b/c", "x");
    store->put_atomic("top", "y");
    store->clear();
    EXPECT_TRUE(fs::is_directory(root_));
    EXPECT_TRUE(fs::is_empty(root_));
    store->put_atomic("a/again", "z"); // directories are recreated after clear
    EXPECT_EQ(read(root_ / "a/again"), "z");
    store->sync();
}

TEST_F(FilesystemStore, ErrorsAreIOErrorsNamingThePath)
{
    auto store = make_filesystem_store(root_.string());
    store->put_atomic("file", "x");
    try {
        store->open_sink("file/child");
        FAIL() << "expected an IOError";
    } catch (const zarr::Error& e) {
        EXPECT_EQ(e.code(), ZarrStatusCode_IOError);
        EXPECT_NE(std::string(e.what()).find((root_ / "file").string()), std::string::npos)
          << e.what();
    }
}

namespace {

/// The status and message of what `open` throws, or "(opened)".
std::string
refusal(const std::function<void()>& open, ZarrStatusCode& code)
{
    try {
        open();
    } catch (const zarr::Error& e) {
        code = e.code();
        return e.what();
    }
    return "(opened)";
}

} // namespace

TEST_F(FilesystemStore, OpenRefusesARootThatIsAFile)
{
    std::ofstream(root_.string()) << "x";
    ZarrStatusCode code = ZarrStatusCode_Success;
    const std::string message =
      refusal([&] { open_filesystem_store({ root_.string() }, false); }, code);
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings);
    EXPECT_EQ(message, "store_path '" + root_.string() + "' exists and is not a directory");
    fs::remove(root_);
}

// Each case sits inside the test's own directory, so that a guard that
// failed would delete nothing else.
TEST_F(FilesystemStore, OpenWithOverwriteRefusesADirectoryHoldingTheWorkingDirectory)
{
    fs::create_directories(root_ / "inner");
    fs::create_directories(root_ / "home");
    const fs::path cwd = fs::current_path();
    fs::current_path(root_ / "inner");
    ZarrStatusCode code = ZarrStatusCode_Success;
    const std::string message =
      refusal([&] { open_filesystem_store({ root_.string() }, true); }, code);
    fs::current_path(cwd);
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings) << message;
    EXPECT_EQ(message, "store_path '" + root_.string() +
                         "' is the working directory or a directory containing it: "
                         "refusing to overwrite (delete) it; choose a dedicated "
                         "directory for the store");
    EXPECT_TRUE(fs::exists(root_ / "home"));
}

TEST_F(FilesystemStore, OpenWithOverwriteRefusesADirectoryHoldingTheHomeDirectory)
{
    fs::create_directories(root_ / "home");
    const char* home = std::getenv("HOME");
    const std::string saved = home ? home : "";
    ::setenv("HOME", (root_ / "home").c_str(), 1);
    ZarrStatusCode code = ZarrStatusCode_Success;
    const std::string message =
      refusal([&] { open_filesystem_store({ root_.string() }, true); }, code);
    if (home) {
        ::setenv("HOME", saved.c_str(), 1);
    } else {
        ::unsetenv("HOME");
    }
    EXPECT_EQ(code, ZarrStatusCode_InvalidSettings) << message;
    EXPECT_NE(message.find("is the home directory or a directory containing it: refusing"),
              std::string::npos)
      << message;
    EXPECT_TRUE(fs::exists(root_ / "home"));
}

TEST_F(FilesystemStore, OpenWithOverwriteEmptiesTheDirectory)
{
    make_filesystem_store(root_.string())->put_atomic("a/old", "x");
    auto store = open_filesystem_store({ root_.string() }, true);
    EXPECT_TRUE(fs::is_directory(root_));
    EXPECT_TRUE(fs::is_empty(root_));
}

TEST_F(FilesystemStore, OpenWithoutOverwriteKeepsWhatIsThere)
{
    make_filesystem_store(root_.string())->put_atomic("a/old", "x");
    auto store = open_filesystem_store({ root_.string() }, false);
    EXPECT_EQ(store->get("a/old").value(), "x");
}

TEST_F(FilesystemStore, FailedWritesMeanTheLocationIsUnusable)
{
    EXPECT_TRUE(make_filesystem_store(root_.string())->write_failure_means_bad_location());
}

TEST_F(FilesystemStore, ConfigNameIsTheDirectoryName)
{
    EXPECT_EQ((FilesystemStoreConfig{ "/data/run.zarr" }.name()), "run.zarr");
    EXPECT_EQ((FilesystemStoreConfig{ "/data/run.zarr" }.location()), "/data/run.zarr");
}
