// DescriptorBudget keeps the descriptors held under its limit by closing the
// holders idle longest, never one in use, and reopens them on demand; the
// filesystem store writes any number of files through it.
#include "storage/descriptor_budget.hh"
#include "storage/store.hh"
#include "temp_dir.hh"

#include <gtest/gtest.h>

#include <dirent.h>
#include <filesystem>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <vector>

using zarr::storage::DescriptorBudget;

namespace {

/// Counts its opens and closes; holds `width` descriptors while open.
class Counted final : public DescriptorBudget::Holder
{
  public:
    explicit Counted(size_t width = 1)
      : width_(width)
    {
    }
    size_t opens = 0;
    size_t closes = 0;
    bool open = false;

  private:
    size_t descriptors_needed() const noexcept override { return width_; }
    size_t open_descriptors() override
    {
        ++opens;
        open = true;
        return width_;
    }
    void close_descriptors() noexcept override
    {
        ++closes;
        open = false;
    }
    size_t width_;
};

size_t
open_descriptor_count()
{
    size_t n = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/self/fd")) {
        ++n;
    }
    return n;
}

} // namespace

TEST(DescriptorBudget, ClosesTheHolderIdleLongestWhenFull)
{
    DescriptorBudget budget(3);
    std::vector<std::unique_ptr<Counted>> h;
    for (int i = 0; i < 4; ++i) {
        h.push_back(std::make_unique<Counted>());
    }
    for (int i = 0; i < 3; ++i) {
        DescriptorBudget::Use use(budget, *h[i]);
    }
    EXPECT_EQ(budget.held(), 3u);
    { DescriptorBudget::Use use(budget, *h[0]); } // h[0] is now the most recent
    { DescriptorBudget::Use use(budget, *h[3]); } // evicts h[1], idle longest
    EXPECT_TRUE(h[0]->open);
    EXPECT_FALSE(h[1]->open);
    EXPECT_TRUE(h[2]->open);
    EXPECT_TRUE(h[3]->open);
    EXPECT_EQ(h[0]->opens, 1u); // reused while open: no reopen
    EXPECT_LE(budget.held(), 3u);
    { DescriptorBudget::Use use(budget, *h[1]); } // reopened on demand
    EXPECT_EQ(h[1]->opens, 2u);
    EXPECT_LE(budget.peak(), 3u);
    for (auto& holder : h) {
        budget.retire(*holder);
    }
    EXPECT_EQ(budget.held(), 0u);
}

TEST(DescriptorBudget, NeverClosesAHolderInUseAndGivesBackTheExcessAfter)
{
    DescriptorBudget budget(2);
    Counted a, b, c;
    {
        DescriptorBudget::Use ua(budget, a);
        DescriptorBudget::Use ub(budget, b);
        DescriptorBudget::Use uc(budget, c); // all busy: over the limit
        EXPECT_TRUE(a.open && b.open && c.open);
        EXPECT_EQ(budget.held(), 3u);
    }
    EXPECT_LE(budget.held(), 2u); // idle again: back under the limit
    EXPECT_EQ(a.closes + b.closes + c.closes, 1u);
    budget.retire(a);
    budget.retire(b);
    budget.retire(c);
}

TEST(DescriptorBudget, CountsWhatEachHolderReallyHolds)
{
    DescriptorBudget budget(4);
    Counted a(2), b(2), c(1);
    { DescriptorBudget::Use use(budget, a); }
    { DescriptorBudget::Use use(budget, b); }
    EXPECT_EQ(budget.held(), 4u);
    { DescriptorBudget::Use use(budget, c); } // room for one: closes a
    EXPECT_FALSE(a.open);
    EXPECT_EQ(budget.held(), 3u);
    budget.retire(a);
    budget.retire(b);
    budget.retire(c);
    EXPECT_EQ(budget.held(), 0u);
}

TEST(DescriptorBudget, DefaultIsAQuarterOfTheSoftLimitAndAtLeastEight)
{
    rlimit rl{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
    const size_t limit = DescriptorBudget::default_limit();
    EXPECT_GE(limit, 8u);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= 32) {
        EXPECT_EQ(limit, static_cast<size_t>(rl.rlim_cur) / 4);
    }
}

TEST(FilesystemStore, ThousandsOfFilesOpenAtOnceStayWithinAQuarterOfTheLimit)
{
    rlimit rl{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
    const rlimit saved = rl;
    rl.rlim_cur = 64; // the store sizes its budget when it opens
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);

    const zarr::test::TempDir dir;
    const auto& root = dir.path();
    const size_t before = open_descriptor_count();
    {
        auto store = zarr::storage::make_filesystem_store(root.string());
        std::vector<std::unique_ptr<zarr::storage::Sink>> sinks;
        constexpr size_t kFiles = 2000; // all unfinished at once
        for (size_t i = 0; i < kFiles; ++i) {
            sinks.push_back(store->open_sink("c/" + std::to_string(i)));
        }
        for (int round = 0; round < 2; ++round) {
            for (size_t i = 0; i < kFiles; ++i) {
                const uint8_t bytes[2] = { static_cast<uint8_t>(i),
                                           static_cast<uint8_t>(round) };
                sinks[i]->write(static_cast<uint64_t>(round) * 2, bytes, 2);
                EXPECT_LE(open_descriptor_count(), before + 1 + 16); // root + budget
            }
        }
        for (auto& sink : sinks) {
            sink->finalize();
        }
        store->sync();
    }
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    for (size_t i = 0; i < 2000; i += 397) {
        const auto path = root / "c" / std::to_string(i);
        ASSERT_EQ(std::filesystem::file_size(path), 4u) << path;
    }
}
