#include "thread_pool.hh"

#include <algorithm>
#include <system_error>

namespace zarr {

ThreadPool::ThreadPool(unsigned n_threads,
                       size_t max_queued_jobs,
                       size_t byte_budget,
                       FirstError& errors,
                       unsigned n_compute)
  : errors_(errors)
  , max_queued_(std::max<size_t>(1, max_queued_jobs))
  , byte_budget_(byte_budget)
  , compute_(static_cast<std::ptrdiff_t>(
      n_compute == 0 ? std::max(1u, n_threads) : n_compute))
{
    n_threads = std::max(1u, n_threads);
    threads_.reserve(n_threads);
    try {
        for (unsigned i = 0; i < n_threads; ++i) {
            threads_.emplace_back([this] { worker_loop(); });
        }
    } catch (const std::system_error& e) {
        // Join the threads already running before failing, or their
        // destruction would terminate the process.
        const size_t started = threads_.size();
        stop_and_join();
        fail(ZarrStatusCode_InternalError, "cannot start worker thread ", started + 1,
             " of ", n_threads, ": ", e.what());
    }
}

void
ThreadPool::stop_and_join() noexcept
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    threads_.clear();
}

ThreadPool::~ThreadPool()
{
    stop_and_join();
}

void
ThreadPool::submit(Job job, size_t bytes)
{
    std::unique_lock lock(mutex_);
    space_ready_.wait(lock, [&] {
        const bool nothing_in_flight = queue_.empty() && running_ == 0;
        return nothing_in_flight || (queue_.size() < max_queued_ &&
                                     bytes_in_flight_ + bytes <= byte_budget_);
    });
    bytes_in_flight_ += bytes;
    queue_.push_back(Entry{ std::move(job), bytes });
    lock.unlock();
    work_ready_.notify_one();
}

bool
ThreadPool::try_submit(Job job)
{
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= max_queued_) {
            return false;
        }
        queue_.push_back(Entry{ std::move(job), 0 });
    }
    work_ready_.notify_one();
    return true;
}

void
ThreadPool::wait_idle()
{
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return queue_.empty() && running_ == 0; });
}

void
ThreadPool::wait_for_bytes_at_most(size_t bytes)
{
    std::unique_lock lock(mutex_);
    space_ready_.wait(lock, [&] { return bytes_in_flight_ <= bytes; });
}

void
ThreadPool::worker_loop()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
            return; // stopping and drained
        }
        Entry entry = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
        lock.unlock();

        try {
            entry.job();
        } catch (const Error& e) {
            errors_.record(e.code(), e.what());
        } catch (const std::bad_alloc&) {
            errors_.record(ZarrStatusCode_OutOfMemory,
                           "out of memory in a background write");
        } catch (const std::exception& e) {
            errors_.record(ZarrStatusCode_InternalError, e.what());
        }
        entry.job = nullptr; // release captured buffers outside the lock

        lock.lock();
        --running_;
        bytes_in_flight_ -= entry.bytes;
        space_ready_.notify_all();
        if (queue_.empty() && running_ == 0) {
            idle_.notify_all();
        }
    }
}

} // namespace zarr
