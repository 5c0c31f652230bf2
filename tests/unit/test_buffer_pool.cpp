#include "util/buffer_pool.hh"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include <sys/mman.h>

using zarr::BufferPool;

TEST(AllocateAligned, AlignsEverySizeAndMapsLargeBuffersOfTheirOwn)
{
    for (size_t n : { size_t{ 1 }, size_t{ 4095 }, size_t{ 4096 }, zarr::kMappedBufferBytes - 1,
                      zarr::kMappedBufferBytes, zarr::kMappedBufferBytes + 1,
                      (size_t{ 3 } << 20) + 5 }) {
        SCOPED_TRACE(n);
        zarr::AlignedBytes b = zarr::allocate_aligned(n);
        ASSERT_TRUE(b);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(b.get()) % zarr::kBufferAlignment, 0u);
        std::memset(b.get(), 0xA5, n); // every byte is writable
        EXPECT_EQ(b[n - 1], 0xA5);
        const size_t mapped = b.get_deleter().mapped;
        if (!zarr::kMapsLargeBuffers || n < zarr::kMappedBufferBytes) {
            EXPECT_EQ(mapped, 0u); // from operator new
            continue;
        }
        EXPECT_GE(mapped, n);
        EXPECT_EQ(mapped % zarr::kBufferAlignment, 0u);
        // Freed, the mapping is gone: its pages went back to the kernel,
        // not to a heap that may never be trimmed.
        uint8_t* at = b.get();
        std::vector<unsigned char> resident((mapped + 4095) / 4096);
        ASSERT_EQ(::mincore(at, mapped, resident.data()), 0);
        b.reset();
        EXPECT_EQ(::mincore(at, mapped, resident.data()), -1);
        EXPECT_EQ(errno, ENOMEM);
    }
}

TEST(AllocateAligned, PopulatesThePagesAskedFor)
{
    // A mapping of 64 pages with the first 10 pages and a byte populated:
    // those 11 pages are resident (and read as zeros) before any write;
    // the rest are not. Operator new's buffers are zeroed that far.
    const size_t n = 64 * 4096;
    const size_t populate = 10 * 4096 + 1;
    zarr::AlignedBytes b = zarr::allocate_aligned(n, populate);
    ASSERT_TRUE(b);
    if (b.get_deleter().mapped != 0) {
        std::vector<unsigned char> resident(64);
        ASSERT_EQ(::mincore(b.get(), n, resident.data()), 0);
        for (size_t page = 0; page < 64; ++page) {
            SCOPED_TRACE(page);
            EXPECT_EQ(resident[page] & 1, page <= 10 ? 1 : 0);
        }
    }
    for (size_t i = 0; i < populate; i += 997) {
        ASSERT_EQ(b[i], 0) << i;
    }
    EXPECT_EQ(b[populate - 1], 0);
    // Small buffers (operator new) too.
    zarr::AlignedBytes small = zarr::allocate_aligned(100, 1000);
    ASSERT_TRUE(small);
    for (size_t i = 0; i < 100; ++i) {
        ASSERT_EQ(small[i], 0) << i;
    }
}

TEST(BufferPool, PrefillMakesBuffersNowUpToTheCountAndTheIdleLimit)
{
    auto pool = BufferPool::create(zarr::kMappedBufferBytes, 6);
    auto held = pool->acquire();
    pool->prefill(4, 4096);
    EXPECT_EQ(pool->live_buffers(), 4u); // the held one and three made now
    pool->prefill(4, 4096);
    EXPECT_EQ(pool->live_buffers(), 4u); // already there
    pool->prefill(100, 4096);
    EXPECT_EQ(pool->live_buffers(), 6u); // as many as may be idle, counting the held one
}

TEST(BufferPool, BuffersGivenBackAreHandedOutBeforePrefilledOnes)
{
    auto pool = BufferPool::create(4096, 8);
    pool->prefill(3, 4096);
    std::vector<zarr::Buffer> taken;
    taken.push_back(pool->acquire()); // a prefilled one: nothing given back yet
    EXPECT_EQ(taken.back().data()[4095], 0);
    uint8_t* given_back = taken.back().data();
    taken.clear();
    EXPECT_EQ(pool->acquire().data(), given_back); // the used one, not a spare
    EXPECT_EQ(pool->live_buffers(), 3u);
}

TEST(BufferPool, ReleaseNeverUsedFreesOnlyPrefilledBuffersNeverHandedOut)
{
    auto pool = BufferPool::create(4096, 16);
    pool->prefill(5, 4096);
    std::vector<zarr::Buffer> taken;
    for (int i = 0; i < 3; ++i) {
        taken.push_back(pool->acquire());
    }
    taken.pop_back(); // one given back: used, so it stays
    pool->release_never_used();
    EXPECT_EQ(pool->live_buffers(), 3u); // two in use, one idle
    pool->release_never_used(); // nothing more to release
    EXPECT_EQ(pool->live_buffers(), 3u);
    taken.push_back(pool->acquire()); // the idle one
    EXPECT_EQ(pool->live_buffers(), 3u);
    taken.push_back(pool->acquire()); // none left: a new one
    EXPECT_EQ(pool->live_buffers(), 4u);
    taken.clear();
    EXPECT_EQ(pool->live_buffers(), 4u); // all idle now, and kept
}

TEST(BufferPool, HandsOutAReturnedBufferAgain)
{
    auto pool = BufferPool::create(4096, 2);
    uint8_t* first = nullptr;
    {
        auto b = pool->acquire();
        ASSERT_TRUE(b);
        EXPECT_EQ(b.size(), 4096u);
        first = b.data();
    }
    auto again = pool->acquire();
    EXPECT_EQ(again.data(), first);
}

TEST(BufferPool, KeepsAtMostMaxIdleBuffersReturned)
{
    auto pool = BufferPool::create(64, 1);
    {
        auto a = pool->acquire();
        auto b = pool->acquire();
    } // two returned, one kept
    auto x = pool->acquire();
    auto y = pool->acquire();
    EXPECT_NE(x.data(), y.data());
}

TEST(BufferPool, WarmAllocatesUpToTheTargetCountingBuffersInUse)
{
    auto pool = BufferPool::create(4096, 8);
    auto held = pool->acquire();
    EXPECT_EQ(pool->live_buffers(), 1u);
    pool->warm(4);
    EXPECT_EQ(pool->live_buffers(), 4u); // the held one and three idle
    std::vector<zarr::Buffer> more;
    for (int i = 0; i < 3; ++i) {
        more.push_back(pool->acquire());
        // warmed buffers are zeroed (their pages touched)
        EXPECT_EQ(more.back().data()[0], 0);
        EXPECT_EQ(more.back().data()[4095], 0);
    }
    EXPECT_EQ(pool->live_buffers(), 4u); // taken from the idle ones
    more.push_back(pool->acquire());
    EXPECT_EQ(pool->live_buffers(), 5u); // none idle: a new one
}

TEST(BufferPool, WarmInStepsSaysWhetherMoreRemain)
{
    auto pool = BufferPool::create(64, 8);
    EXPECT_TRUE(pool->warm(5, 2)); // 2 of 5
    EXPECT_EQ(pool->live_buffers(), 2u);
    EXPECT_TRUE(pool->warm(5, 2)); // 4 of 5
    EXPECT_FALSE(pool->warm(5, 2)); // 5 of 5: done
    EXPECT_EQ(pool->live_buffers(), 5u);
    EXPECT_FALSE(pool->warm(5, 2)); // nothing more to do
    EXPECT_EQ(pool->live_buffers(), 5u);
}

TEST(BufferPool, WarmStaysWithinTheIdleLimitAndStopsWhenTold)
{
    auto pool = BufferPool::create(64, 2);
    pool->warm(10);
    EXPECT_EQ(pool->live_buffers(), 2u);

    auto other = BufferPool::create(64, 8);
    other->stop_warming();
    other->warm(8);
    EXPECT_EQ(other->live_buffers(), 0u);
}

TEST(BufferPool, BuffersDroppedBeyondTheIdleLimitAreNoLongerLive)
{
    auto pool = BufferPool::create(64, 1);
    {
        auto a = pool->acquire();
        auto b = pool->acquire();
        EXPECT_EQ(pool->live_buffers(), 2u);
    }
    EXPECT_EQ(pool->live_buffers(), 1u);
}

TEST(BufferPool, BufferMayOutliveItsOwnerHandle)
{
    zarr::Buffer kept;
    {
        auto pool = BufferPool::create(16, 4);
        kept = pool->acquire();
    }
    kept.data()[0] = 1; // the buffer keeps its pool alive
    EXPECT_EQ(kept.size(), 16u);
}
