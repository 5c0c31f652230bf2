#include "recorded_error.hh"
#include "util/error.hh"
#include "util/thread_pool.hh"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using zarr::Error;
using zarr::FirstError;
using zarr::ThreadPool;
using zarr::test::recorded_error;

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
    const Error e = recorded_error(errors);
    EXPECT_EQ(e.code(), ZarrStatusCode_IOError);
    EXPECT_STREQ(e.what(), "disk on fire");
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

// Many short rounds in which four threads take and give back two slots,
// each round ending with every thread finished: a waiter left asleep with
// a slot free (as libstdc++ 12's std::counting_semaphore could leave one)
// would hang its round. Each holder also checks that no more than two hold
// a slot at once.
TEST(Slots, EveryWaiterWakesAndNoMoreThanTheCountHoldAtOnce)
{
    constexpr int kRounds = 2000;
    std::atomic<int> holding{ 0 };
    std::atomic<int> most{ 0 };
    for (int round = 0; round < kRounds; ++round) {
        zarr::Slots slots(2);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                for (int k = 0; k < 20; ++k) {
                    slots.acquire();
                    const int now = ++holding;
                    int seen = most.load();
                    while (now > seen && !most.compare_exchange_weak(seen, now)) {
                    }
                    if (k % 4 == 0) {
                        std::this_thread::yield();
                    }
                    --holding;
                    slots.release();
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
    }
    EXPECT_EQ(holding.load(), 0);
    EXPECT_LE(most.load(), 2);
    EXPECT_GE(most.load(), 1);
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
    EXPECT_STREQ(recorded_error(errors).what(), "write refused");
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

TEST(ThreadPool, WaitingOnAnIoShareWaitsOnlyForThatShareSJobs)
{
    FirstError errors;
    ThreadPool pool(1, 8, 100, errors, 0, 2, 1000);
    zarr::IoShare mine;
    zarr::IoShare theirs;
    Gate their_gate;
    Gate my_gate;
    pool.submit_io([&] { their_gate.wait(); }, 300, nullptr, &theirs);
    pool.submit_io([&] { my_gate.wait(); }, 40, nullptr, &mine);

    // Another producer's burst does not hold this one: 40 <= 50 at once.
    pool.wait_for_io_bytes_at_most(50, &mine);
    // Its own job does: 40 > 10 until that job finishes.
    std::atomic<bool> drained{ false };
    std::thread waiter([&] {
        pool.wait_for_io_bytes_at_most(10, &mine);
        drained = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(drained.load());
    my_gate.open();
    waiter.join();
    EXPECT_TRUE(drained.load());
    // The lane as a whole still holds the other producer's bytes.
    std::atomic<bool> lane_drained{ false };
    std::thread lane_waiter([&] {
        pool.wait_for_io_bytes_at_most(0);
        lane_drained = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(lane_drained.load());
    their_gate.open();
    lane_waiter.join();
    pool.wait_idle();
    pool.wait_for_io_bytes_at_most(0, &theirs); // back to zero
}

// As a stream wires them (src/stream/stream.hh): the pool's errors and each
// array's are children of the stream's. A job submitted with its array as
// owner fails that array alone; one with no owner fails the pool's, which
// stops every array.
TEST(ThreadPool, AJobWithAnOwnerFailsItsOwnerAndAJobWithoutOneFailsThePool)
{
    FirstError stream;
    FirstError pool_errors(&stream);
    FirstError array_a(&stream);
    FirstError array_b(&stream);
    ThreadPool pool(2, 8, 1 << 20, pool_errors, 0, 1, 1 << 20);
    std::atomic<int> ran{ 0 };
    pool.submit([] { throw Error(ZarrStatusCode_IOError, "a: compute"); }, 1, &array_a);
    pool.submit_io([] { throw std::runtime_error("a: write"); }, 1, &array_a);
    pool.submit([&] { ++ran; }, 1, &array_b);
    pool.submit_io([&] { ++ran; }, 1, &array_b);
    pool.wait_idle();
    EXPECT_EQ(ran.load(), 2);
    ASSERT_TRUE(array_a.failed());
    EXPECT_FALSE(array_b.failed());
    EXPECT_FALSE(pool_errors.failed()) << "an array's failure stopped every array";
    EXPECT_TRUE(stream.failed()); // close reports it

    pool.submit_io([] { throw Error(ZarrStatusCode_InternalError, "no array's"); }, 1);
    pool.wait_idle();
    ASSERT_TRUE(pool_errors.failed());
    EXPECT_FALSE(array_b.failed());
    EXPECT_STREQ(recorded_error(pool_errors).what(), "no array's");
}

TEST(ThreadPool, WithoutIoThreadsAnOwnedIoJobsFailureGoesToItsOwnerNotTheCaller)
{
    FirstError pool_errors;
    FirstError array;
    ThreadPool pool(1, 8, 100, pool_errors);
    EXPECT_NO_THROW(
      pool.submit_io([] { throw Error(ZarrStatusCode_IOError, "disk gone"); }, 10, &array));
    ASSERT_TRUE(array.failed());
    EXPECT_FALSE(pool_errors.failed());
    const Error e = recorded_error(array);
    EXPECT_EQ(e.code(), ZarrStatusCode_IOError);
    EXPECT_STREQ(e.what(), "disk gone");
    // With no owner, the failure is the caller's: it ran the job.
    EXPECT_THROW(pool.submit_io([] { throw Error(ZarrStatusCode_IOError, "x"); }, 10), Error);
    EXPECT_FALSE(pool_errors.failed());
}
