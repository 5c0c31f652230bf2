// The filesystem store's directory sets stay bounded however many
// directories a stream makes, forget nothing that still needs a sync, and a
// node (array, group) removed under the store is reported, never recreated.
#include "storage/fs_store_dirs.hh"
#include "storage/store.hh"
#include "temp_dir.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using zarr::storage::BoundedOrderedSet;
using zarr::storage::make_filesystem_store;
using zarr::storage::StoreDirectories;

namespace {

using StoreDirs = zarr::test::TempDirTest<zarr::test::TempDir::Start::empty>;

void
write_file(zarr::storage::Store& store, const std::string& key)
{
    auto sink = store.open_sink(key);
    const uint8_t byte = 7;
    sink->write(0, &byte, 1);
    sink->finalize();
}

} // namespace

TEST(BoundedOrderedSet, EvictsTheLeastRecentlyUsedBeyondItsCapacity)
{
    BoundedOrderedSet set(3);
    EXPECT_TRUE(set.insert("a", true).empty());
    EXPECT_TRUE(set.insert("b", true).empty());
    EXPECT_TRUE(set.insert("c", true).empty());
    EXPECT_TRUE(set.contains("a", true)); // "a" is now the newest
    const auto evicted = set.insert("d", true);
    ASSERT_EQ(evicted.size(), 1u);
    EXPECT_EQ(evicted[0], "b");
    EXPECT_EQ(set.size(), 3u);
    EXPECT_TRUE(set.contains("a", false));
    EXPECT_FALSE(set.contains("b", false));
}

TEST(BoundedOrderedSet, WithoutRefreshKeepsInsertionOrderAndEvictsInBatches)
{
    BoundedOrderedSet set(4);
    for (const char* s : { "a", "b", "c", "d" }) {
        EXPECT_TRUE(set.insert(s, false).empty());
    }
    EXPECT_TRUE(set.insert("a", false).empty()); // present: stays the oldest
    const auto evicted = set.insert("e", false, 2);
    ASSERT_EQ(evicted.size(), 2u);
    EXPECT_EQ(evicted[0], "a");
    EXPECT_EQ(evicted[1], "b");
    EXPECT_EQ(set.size(), 3u);
    const auto all = set.take_all();
    EXPECT_EQ(all, (std::vector<std::string>{ "c", "d", "e" }));
    EXPECT_EQ(set.size(), 0u);
    EXPECT_FALSE(set.contains("c", false));
}

TEST_F(StoreDirs, TenThousandDirectoriesStayWithinBothCapacities)
{
    // The sets never look at the filesystem (sync_all skips what is missing).
    StoreDirectories dirs(root_.string(), 64, 32);
    for (int i = 0; i < 10000; ++i) {
        const fs::path dir = root_ / "0" / "c" / std::to_string(i);
        dirs.created(dir.string());
        dirs.changed(dir.string());
        ASSERT_LE(dirs.known_count(), 64u) << i;
        ASSERT_LE(dirs.unsynced_count(), 32u) << i;
    }
    EXPECT_TRUE(dirs.known((root_ / "0" / "c" / "9999").string()));
    EXPECT_FALSE(dirs.known((root_ / "0" / "c" / "0").string())); // evicted, not lost
    dirs.sync_all();
    EXPECT_EQ(dirs.unsynced_count(), 0u);
}

TEST_F(StoreDirs, SyncSkipsDirectoriesDeletedSinceTheyChanged)
{
    StoreDirectories dirs(root_.string());
    const fs::path dir = root_ / "a" / "b";
    fs::create_directories(dir);
    dirs.created(dir.string());
    fs::remove_all(root_ / "a");
    EXPECT_NO_THROW(dirs.sync_all());
    EXPECT_EQ(dirs.unsynced_count(), 0u);
}

TEST_F(StoreDirs, AStoreWritesFilesInMoreDirectoriesThanItRemembers)
{
    // 1224 directories: more than either set holds, so directories are
    // forgotten and found again (the first ones are written to twice).
    auto store = make_filesystem_store(root_.string());
    constexpr int kDirs = static_cast<int>(StoreDirectories::kKnownCapacity) + 200;
    for (int i = 0; i < kDirs; ++i) {
        write_file(*store, "0/c/" + std::to_string(i) + "/0");
    }
    for (int i = 0; i < 10; ++i) {
        write_file(*store, "0/c/" + std::to_string(i) + "/1");
    }
    store->sync();
    for (int i = 0; i < kDirs; ++i) {
        ASSERT_TRUE(fs::is_regular_file(root_ / "0" / "c" / std::to_string(i) / "0")) << i;
    }
    for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(fs::is_regular_file(root_ / "0" / "c" / std::to_string(i) / "1")) << i;
    }
}

TEST_F(StoreDirs, AnArrayRemovedUnderTheStoreIsReportedNotRecreated)
{
    auto store = make_filesystem_store(root_.string());
    store->put_atomic("zarr.json", "{}");
    store->put_atomic("a/zarr.json", "{}");
    store->put_atomic("b/zarr.json", "{}");
    write_file(*store, "a/c/0/0");
    write_file(*store, "b/c/0/0");
    fs::remove_all(root_ / "a");

    const std::string named = "the directory '" + (root_ / "a").string() + "' was removed";
    const auto expect_refused = [&](const std::string& what, const auto& write) {
        try {
            write();
            ADD_FAILURE() << what << " was written into the removed array";
        } catch (const zarr::Error& e) {
            EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
        }
        EXPECT_FALSE(fs::exists(root_ / "a"));
    };
    const auto put_metadata = [&] { store->put_atomic("a/zarr.json", "{}"); };
    for (const char* key : { "a/c/1/0", "a/c/0/1" }) { // a new and a known directory
        expect_refused(key, [&] { write_file(*store, key); });
    }
    expect_refused("its metadata", put_metadata);

    // The same once the store has forgotten that "a" exists (a long stream).
    for (size_t i = 0; i <= StoreDirectories::kKnownCapacity; ++i) {
        write_file(*store, "b/c/" + std::to_string(i) + "/0");
    }
    expect_refused("its metadata", put_metadata);

    // The other array goes on; sync skips the removed directories.
    write_file(*store, "b/c/1/0");
    EXPECT_NO_THROW(store->sync());
    EXPECT_TRUE(fs::is_regular_file(root_ / "b" / "c" / "1" / "0"));
}

TEST_F(StoreDirs, AnArrayTheStoreErasedIsWrittenAgain)
{
    auto store = make_filesystem_store(root_.string());
    store->put_atomic("a/zarr.json", "{}");
    write_file(*store, "a/c/0/0");
    store->erase_node("a"); // replaced by the stream itself, not removed under it
    write_file(*store, "a/c/0/0");
    store->put_atomic("a/zarr.json", "{}");
    store->sync();
    EXPECT_TRUE(fs::is_regular_file(root_ / "a" / "c" / "0" / "0"));
}
