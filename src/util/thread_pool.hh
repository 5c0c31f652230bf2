// A fixed set of worker threads behind a bounded queue. submit() blocks while
// the queue is full or the bytes held by queued and running jobs exceed the
// budget: that is the stream's backpressure. A job that throws has its error
// recorded in the FirstError given at construction; the pool keeps running
// so that nothing waits forever on a failed job.
#pragma once

#include "error.hh"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

namespace zarr {

class ThreadPool
{
  public:
    using Job = std::function<void()>;

    /// `n_compute` (0: all of them) bounds how many of the `n_threads` may
    /// hold a ComputeSlot at once: the others can wait on storage meanwhile.
    ThreadPool(unsigned n_threads,
               size_t max_queued_jobs,
               size_t byte_budget,
               FirstError& errors,
               unsigned n_compute = 0);
    ~ThreadPool();

    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    /// Queues `job`, which holds `bytes` of memory until it finishes. Blocks
    /// while the pool is saturated. A job larger than the whole budget is
    /// admitted once nothing else is in flight.
    void submit(Job job, size_t bytes);

    /// Queues `job` (which holds no budgeted memory) unless the queue is
    /// full or the pool is stopping; never blocks. Workers may call it.
    bool try_submit(Job job);

    /// Blocks until every submitted job has finished.
    void wait_idle();

    /// Blocks until the queued and running jobs hold at most `bytes`. Lets a
    /// producer spread its waiting over time instead of stalling once when
    /// the budget is full.
    void wait_for_bytes_at_most(size_t bytes);

    size_t byte_budget() const noexcept { return byte_budget_; }

    unsigned n_threads() const noexcept
    {
        return static_cast<unsigned>(threads_.size());
    }

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
    };

    void worker_loop();

    FirstError& errors_;
    const size_t max_queued_;
    const size_t byte_budget_;

    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable space_ready_;
    std::condition_variable idle_;
    std::deque<Entry> queue_;
    size_t bytes_in_flight_ = 0;
    size_t running_ = 0;
    bool stopping_ = false;
    std::counting_semaphore<> compute_;
    std::vector<std::thread> threads_;
};

} // namespace zarr
