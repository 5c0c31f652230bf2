#include "util/buffer_pool.hh"
#include "util/error.hh"
#include "util/thread_pool.hh"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <chrono>
#include <thread>
#include <vector>

#include <sys/mman.h>

using zarr::BufferPool;
using zarr::Error;
using zarr::FirstError;
using zarr::ThreadPool;

namespace {

/// A gate jobs wait on, so a test controls exactly when they finish.
class Gate
{
  public:
    void open()
    {
        std::lock_guard lock(m_);
        open_ = true;
        cv_.notify_all();
    }
    void wait()
    {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return open_; });
    }

  private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
};

} // namespace

TEST(ThreadPool, RunsEveryJob)
{
    FirstError errors;
    std::atomic<int> sum{ 0 };
    {
        ThreadPool pool(3, 4, 1 << 20, errors);
        for (int i = 1; i <= 100; ++i) {
            pool.submit([&sum, i] { sum += i; }, 10);
        }
        pool.wait_idle();
        EXPECT_EQ(sum.load(), 5050);
    }
    EXPECT_FALSE(errors.failed());
}

TEST(ThreadPool, ThrowingJobRecordsTheFirstErrorAndOthersStillRun)
{
    FirstError errors;
    std::atomic<int> ran{ 0 };
    ThreadPool pool(2, 8, 1 << 20, errors);
    pool.submit([] { throw Error(ZarrStatusCode_IOError, "disk on fire"); }, 1);
    pool.wait_idle();
    pool.submit([] { throw std::runtime_error("second"); }, 1);
    for (int i = 0; i < 10; ++i) {
        pool.submit([&] { ++ran; }, 1);
    }
    pool.wait_idle();
    EXPECT_EQ(ran.load(), 10);
    ASSERT_TRUE(errors.failed());
    try {
        errors.rethrow();
        FAIL() << "rethrow did not throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ZarrStatusCode_IOError);
        EXPECT_STREQ(e.what(), "disk on fire");
    }
}

TEST(ThreadPool, SubmitBlocksWhileTheByteBudgetIsSpent)
{
    FirstError errors;
    ThreadPool pool(1, 100, 100, errors);
    Gate gate;
    pool.submit([&] { gate.wait(); }, 80);

    std::atomic<bool> second_submitted{ false };
    std::thread producer([&] {
        pool.submit([] {}, 50); // 80 + 50 > 100: must wait for the first job
        second_submitted = true;
    });
    // The producer cannot get past submit until the gate opens. Give it every
    // chance to (wrongly) do so, then check it did not.
    for (int i = 0; i < 100 && !second_submitted; ++i) {
        std::this_thread::yield();
    }
    EXPECT_FALSE(second_submitted.load());
    gate.open();
    producer.join();
    EXPECT_TRUE(second_submitted.load());
    pool.wait_idle();
}

TEST(ThreadPool, JobLargerThanTheBudgetRunsWhenThePoolIsEmpty)
{
    FirstError errors;
    ThreadPool pool(1, 4, 10, errors);
    std::atomic<bool> ran{ false };
    pool.submit([&] { ran = true; }, 1000);
    pool.wait_idle();
    EXPECT_TRUE(ran.load());
}

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

TEST(BufferPool, RecyclesBuffers)
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

TEST(BufferPool, KeepsAtMostMaxIdle)
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

TEST(ThreadPool, TrySubmitNeverBlocksAndRefusesWhenTheQueueIsFull)
{
    FirstError errors;
    ThreadPool pool(1, 2, 1 << 20, errors);
    Gate gate;
    std::atomic<bool> started{ false };
    ASSERT_TRUE(pool.try_submit([&] {
        started = true;
        gate.wait();
    }));
    while (!started.load()) {
        std::this_thread::yield();
    }
    std::atomic<int> ran{ 0 };
    EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
    EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
    EXPECT_FALSE(pool.try_submit([&] { ++ran; })); // two queued: full
    gate.open();
    pool.wait_idle();
    EXPECT_EQ(ran.load(), 2);
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

TEST(ThreadPool, ComputeSlotsBoundTheJobsComputingAtOnce)
{
    FirstError errors;
    ThreadPool pool(4, 16, 1 << 20, errors, 2);
    EXPECT_EQ(pool.n_threads(), 4u);
    Gate gate;
    std::atomic<int> computing{ 0 };
    std::atomic<int> most{ 0 };
    std::atomic<int> entered{ 0 };
    for (int i = 0; i < 2; ++i) {
        pool.submit(
          [&] {
              ThreadPool::ComputeSlot slot(pool);
              ++entered;
              gate.wait();
          },
          0);
    }
    // Both slots are taken (wait until both holders are inside) ...
    while (entered.load() < 2) {
        std::this_thread::yield();
    }
    // ... yet a job that does not compute still runs on a third thread.
    std::atomic<bool> io_done{ false };
    pool.submit([&] { io_done = true; }, 0);
    while (!io_done.load()) {
        std::this_thread::yield();
    }
    // And more compute jobs wait for a slot.
    for (int i = 0; i < 6; ++i) {
        pool.submit(
          [&] {
              ThreadPool::ComputeSlot slot(pool);
              const int now = ++computing;
              int seen = most.load();
              while (now > seen && !most.compare_exchange_weak(seen, now)) {
              }
              std::this_thread::sleep_for(std::chrono::milliseconds(1));
              --computing;
          },
          0);
    }
    gate.open();
    pool.wait_idle();
    EXPECT_TRUE(io_done.load());
    EXPECT_LE(most.load(), 2);
    EXPECT_GE(most.load(), 1);
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

TEST(FirstError, KeepsOnlyTheFirst)
{
    FirstError e;
    EXPECT_NO_THROW(e.rethrow());
    e.record(ZarrStatusCode_CompressionError, "first");
    e.record(ZarrStatusCode_IOError, "second");
    try {
        e.rethrow();
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ZarrStatusCode_CompressionError);
        EXPECT_STREQ(err.what(), "first");
    }
}

TEST(ThreadPool, IoJobsRunOnTheirOwnThreadsWhileComputeThreadsAreBusy)
{
    FirstError errors;
    // One compute thread, held by a job until an I/O job (submitted by that
    // job itself) has run: only a separate I/O thread can run it.
    ThreadPool pool(1, 8, 1 << 20, errors, 0, 1, 1 << 20);
    Gate io_ran;
    std::atomic<bool> ran_on_compute_thread{ true };
    pool.submit(
      [&] {
          const auto self = std::this_thread::get_id();
          pool.submit_io(
            [&, self] {
                ran_on_compute_thread = std::this_thread::get_id() == self;
                io_ran.open();
            },
            10);
          io_ran.wait();
      },
      1);
    pool.wait_idle();
    EXPECT_FALSE(ran_on_compute_thread.load());
    EXPECT_EQ(pool.n_threads(), 1u); // the I/O thread is not a compute thread
}

TEST(ThreadPool, WaitIdleWaitsForIoJobsAndTheirErrorsAreRecorded)
{
    FirstError errors;
    std::atomic<int> done{ 0 };
    {
        ThreadPool pool(2, 8, 1 << 20, errors, 0, 2, 1 << 20);
        for (int i = 0; i < 20; ++i) {
            pool.submit(
              [&] {
                  pool.submit_io(
                    [&] {
                        std::this_thread::sleep_for(std::chrono::milliseconds(1));
                        ++done;
                    },
                    100);
              },
              1);
        }
        pool.submit_io([] { throw Error(ZarrStatusCode_IOError, "write refused"); }, 1);
        pool.wait_idle();
        EXPECT_EQ(done.load(), 20);
    }
    ASSERT_TRUE(errors.failed());
    try {
        errors.rethrow();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "write refused");
    }
}

TEST(ThreadPool, SubmitIoBlocksWhileTheIoBudgetIsSpentButNotTheComputeLane)
{
    FirstError errors;
    ThreadPool pool(1, 8, 100, errors, 0, 1, 100);
    Gate gate;
    pool.submit_io([&] { gate.wait(); }, 80);

    std::atomic<bool> io_submitted{ false };
    std::thread writer([&] {
        pool.submit_io([] {}, 50); // 80 + 50 > 100: waits for the first
        io_submitted = true;
    });
    // The compute lane is unaffected: a job there runs meanwhile.
    std::atomic<bool> computed{ false };
    pool.submit([&] { computed = true; }, 90);
    while (!computed) {
        std::this_thread::yield();
    }
    EXPECT_FALSE(io_submitted.load());
    gate.open();
    writer.join();
    EXPECT_TRUE(io_submitted.load());
    // A single I/O job larger than the whole budget runs when the lane is
    // empty.
    std::atomic<bool> big{ false };
    pool.wait_idle();
    pool.submit_io([&] { big = true; }, 1000);
    pool.wait_idle();
    EXPECT_TRUE(big.load());
}

TEST(ThreadPool, WithoutIoThreadsSubmitIoRunsTheJobInPlace)
{
    FirstError errors;
    ThreadPool pool(1, 8, 100, errors);
    std::thread::id ran_on;
    pool.submit_io([&] { ran_on = std::this_thread::get_id(); }, 10);
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}
