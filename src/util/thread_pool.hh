// A fixed set of worker threads behind a bounded queue. submit() blocks while
// the queue is full or the bytes held by queued and running jobs exceed the
// budget: that is the stream's backpressure. A job that throws has its error
// recorded in the FirstError of its owner (the array it writes), or, for a
// job that belongs to no array, in the FirstError given at construction; the
// pool keeps running so that nothing waits forever on a failed job.
#pragma once

#include "error.hh"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace zarr {

/// The bytes that one producer's (an array's) I/O jobs hold in a pool's I/O
/// lane, which other producers share: a producer that paces itself on its
/// own writes does not wait for a burst another one just queued. Read and
/// written by the pool only, under its lock.
class IoShare
{
  private:
    friend class ThreadPool;
    size_t bytes_ = 0;
};

/// A counting semaphore on a mutex and a condition variable. libstdc++ 12's
/// std::counting_semaphore (Debian 12's GCC) can leave a waiter asleep while
/// the count is positive: acquire() reads the count, spins, then sleeps on
/// the value it read first, and release() wakes sleepers only when the count
/// was 0 (GCC bug 104928). When every compute slot was released in that
/// window, the workers slept with both slots free and a stream hung at close.
class Slots
{
  public:
    explicit Slots(size_t count)
      : free_(count)
    {
    }
    Slots(const Slots&) = delete;
    Slots& operator=(const Slots&) = delete;

    void acquire()
    {
        std::unique_lock lock(mutex_);
        freed_.wait(lock, [&] { return free_ > 0; });
        --free_;
    }

    void release()
    {
        {
            std::lock_guard lock(mutex_);
            ++free_;
        }
        freed_.notify_one();
    }

  private:
    std::mutex mutex_;
    std::condition_variable freed_;
    size_t free_;
};

class ThreadPool
{
  public:
    using Job = std::function<void()>;

    /// The pool's threads and what their jobs may hold.
    struct Config
    {
        unsigned threads = 1;       // run submit() and try_submit() jobs
        size_t max_queued_jobs = 1; // waiting for those threads
        size_t byte_budget = 0;     // held by their queued and running jobs
        /// Bounds how many of `threads` may hold a ComputeSlot at once (0:
        /// all of them): the others can wait on storage meanwhile.
        unsigned compute_slots = 0;
        unsigned io_threads = 0; // run only the jobs given to submit_io()
        size_t io_budget = 0;    // held by those jobs
    };

    ThreadPool(const Config& config, FirstError& errors);

    /// The same as Config's fields in that order.
    ThreadPool(unsigned n_threads,
               size_t max_queued_jobs,
               size_t byte_budget,
               FirstError& errors,
               unsigned n_compute = 0,
               unsigned n_io = 0,
               size_t io_budget = 0);
    ~ThreadPool();

    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    /// Queues `job`, which holds `bytes` of memory until it finishes. Blocks
    /// while the pool is saturated. A job larger than the whole budget is
    /// admitted once nothing else is in flight. What `job` throws is
    /// recorded in `owner` (one array's errors: that array stops, the
    /// others go on) or, with no owner, in the pool's FirstError (a failure
    /// that belongs to no array stops every array).
    void submit(Job job, size_t bytes, FirstError* owner = nullptr);

    /// Queues `job` (which holds no budgeted memory) unless the queue is
    /// full or the pool is stopping; never blocks. Workers may call it.
    bool try_submit(Job job);

    /// Queues a storage job for the I/O threads, so that a burst of writes
    /// never takes the threads that compress; blocks while the I/O jobs
    /// hold more than the I/O budget (the storage is the bottleneck). With
    /// no I/O threads, runs `job` here (what it throws then goes to `owner`
    /// as well, or, with no owner, to the caller). Workers may call it: I/O
    /// jobs never wait for other jobs. `owner` as for submit(). `share`
    /// counts the job's bytes as one producer's (IoShare).
    void submit_io(Job job,
                   size_t bytes,
                   FirstError* owner = nullptr,
                   IoShare* share = nullptr);

    /// Blocks until every submitted job (I/O jobs included) has finished.
    void wait_idle();

    /// Blocks until the queued and running jobs hold at most `bytes`. Lets a
    /// producer spread its waiting over time instead of stalling once when
    /// the budget is full.
    void wait_for_bytes_at_most(size_t bytes);

    /// The same for the I/O jobs (submit_io()): all of them, or only those
    /// submitted with `share`.
    void wait_for_io_bytes_at_most(size_t bytes, const IoShare* share = nullptr);

    size_t byte_budget() const noexcept { return byte_budget_; }
    size_t io_budget() const noexcept { return io_budget_; }

    /// Threads running compute-lane jobs (submit(), try_submit()).
    unsigned n_threads() const noexcept { return compute_lane_.n_threads; }

    /// Held by a job while it computes (compresses): with more threads
    /// than cores, a job waiting on a synchronous write leaves its core to
    /// another job's compression, and no more than n_compute compress.
    class ComputeSlot
    {
      public:
        explicit ComputeSlot(ThreadPool& pool)
          : pool_(pool)
        {
            pool_.compute_.acquire();
        }
        ~ComputeSlot() { pool_.compute_.release(); }
        ComputeSlot(const ComputeSlot&) = delete;
        ComputeSlot& operator=(const ComputeSlot&) = delete;

      private:
        ThreadPool& pool_;
    };

  private:
    void stop_and_join() noexcept;

    struct Entry
    {
        Job job;
        size_t bytes;
        FirstError* owner = nullptr; // where its failure goes; null: errors_
        IoShare* share = nullptr;    // whose I/O bytes it holds, if counted apart
    };

    /// Jobs, the bytes they hold, and the threads waiting on either.
    struct Lane
    {
        std::deque<Entry> queue;
        size_t bytes_in_flight = 0;
        std::condition_variable work_ready;
        std::condition_variable space_ready;
        size_t running = 0;    // jobs taken from the queue, not finished
        bool stopping = false; // drain the queue, then exit
        unsigned n_threads = 0;
    };

    void worker_loop(Lane& lane);
    void wait_for_lane_bytes(Lane& lane, size_t bytes);
    bool idle() const noexcept; // mutex_ held
    void start(unsigned n, Lane& lane);

    FirstError& errors_;
    const size_t max_queued_;
    const size_t byte_budget_;
    const size_t io_budget_;

    std::mutex mutex_;
    std::condition_variable idle_;
    Lane compute_lane_;
    Lane io_lane_;
    Slots compute_;
    std::vector<std::thread> threads_;
};

} // namespace zarr
