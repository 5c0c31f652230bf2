#include "thread_pool.hh"

#include <algorithm>
#include <system_error>

namespace zarr {

ThreadPool::ThreadPool(unsigned n_threads,
                       size_t max_queued_jobs,
                       size_t byte_budget,
                       FirstError& errors,
                       unsigned n_compute,
                       unsigned n_io,
                       size_t io_budget)
  : ThreadPool(Config{ .threads = n_threads,
                       .max_queued_jobs = max_queued_jobs,
                       .byte_budget = byte_budget,
                       .compute_slots = n_compute,
                       .io_threads = n_io,
                       .io_budget = io_budget },
               errors)
{
}

ThreadPool::ThreadPool(const Config& config, FirstError& errors)
  : errors_(errors)
  , max_queued_(std::max<size_t>(1, config.max_queued_jobs))
  , byte_budget_(config.byte_budget)
  , io_budget_(config.io_budget)
  , compute_(config.compute_slots == 0 ? std::max(1u, config.threads)
                                        : config.compute_slots)
{
    const unsigned n_threads = std::max(1u, config.threads);
    const unsigned n_io = config.io_threads;
    threads_.reserve(n_threads + n_io);
    try {
        start(n_threads, compute_lane_);
        start(n_io, io_lane_);
    } catch (const std::system_error& e) {
        // Join the threads already running before failing, or their
        // destruction would terminate the process.
        const size_t started = threads_.size();
        stop_and_join();
        fail(ZarrStatusCode_InternalError, "cannot start worker thread ", started + 1,
             " of ", n_threads + n_io, ": ", e.what());
    }
}

void
ThreadPool::start(unsigned n, Lane& lane)
{
    for (unsigned i = 0; i < n; ++i) {
        threads_.emplace_back([this, &lane] { worker_loop(lane); });
        ++lane.n_threads;
    }
}

void
ThreadPool::stop_and_join() noexcept
{
    // The compute lane first: its jobs may still hand writes to the I/O
    // lane, which drains after them.
    size_t next = 0;
    for (Lane* lane : { &compute_lane_, &io_lane_ }) {
        {
            std::lock_guard lock(mutex_);
            lane->stopping = true;
        }
        lane->work_ready.notify_all();
        const size_t until = std::min(threads_.size(), next + lane->n_threads);
        for (; next < until; ++next) {
            if (threads_[next].joinable()) {
                threads_[next].join();
            }
        }
    }
    for (auto& t : threads_) { // a lane whose start failed part way
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
ThreadPool::submit(Job job, size_t bytes, FirstError* owner)
{
    Lane& lane = compute_lane_;
    std::unique_lock lock(mutex_);
    lane.space_ready.wait(lock, [&] {
        const bool nothing_in_flight = lane.queue.empty() && lane.running == 0;
        return nothing_in_flight || (lane.queue.size() < max_queued_ &&
                                     lane.bytes_in_flight + bytes <= byte_budget_);
    });
    lane.bytes_in_flight += bytes;
    lane.queue.push_back(Entry{ std::move(job), bytes, owner });
    lock.unlock();
    lane.work_ready.notify_one();
}

void
ThreadPool::submit_io(Job job, size_t bytes, FirstError* owner, IoShare* share)
{
    if (io_lane_.n_threads == 0) { // set before any submit, never changed
        if (owner == nullptr) {
            job();
            return;
        }
        try {
            job();
        } catch (...) {
            owner->record_current(); // as on an I/O thread
        }
        return;
    }
    Lane& lane = io_lane_;
    std::unique_lock lock(mutex_);
    // One job larger than the budget is let through when the lane is empty.
    lane.space_ready.wait(lock, [&] {
        return lane.bytes_in_flight == 0 || lane.bytes_in_flight + bytes <= io_budget_;
    });
    lane.bytes_in_flight += bytes;
    if (share != nullptr) {
        share->bytes_ += bytes;
    }
    lane.queue.push_back(Entry{ std::move(job), bytes, owner, share });
    lock.unlock();
    lane.work_ready.notify_one();
}

bool
ThreadPool::try_submit(Job job)
{
    {
        std::lock_guard lock(mutex_);
        if (compute_lane_.stopping || compute_lane_.queue.size() >= max_queued_) {
            return false;
        }
        compute_lane_.queue.push_back(Entry{ std::move(job), 0, nullptr });
    }
    compute_lane_.work_ready.notify_one();
    return true;
}

bool
ThreadPool::idle() const noexcept
{
    return compute_lane_.queue.empty() && compute_lane_.running == 0 &&
           io_lane_.queue.empty() && io_lane_.running == 0;
}

void
ThreadPool::wait_idle()
{
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return idle(); });
}

void
ThreadPool::wait_for_bytes_at_most(size_t bytes)
{
    wait_for_lane_bytes(compute_lane_, bytes);
}

void
ThreadPool::wait_for_io_bytes_at_most(size_t bytes, const IoShare* share)
{
    if (share == nullptr) {
        wait_for_lane_bytes(io_lane_, bytes);
        return;
    }
    std::unique_lock lock(mutex_);
    io_lane_.space_ready.wait(lock, [&] { return share->bytes_ <= bytes; });
}

void
ThreadPool::wait_for_lane_bytes(Lane& lane, size_t bytes)
{
    std::unique_lock lock(mutex_);
    lane.space_ready.wait(lock, [&] { return lane.bytes_in_flight <= bytes; });
}

void
ThreadPool::worker_loop(Lane& lane)
{
    std::unique_lock lock(mutex_);
    for (;;) {
        lane.work_ready.wait(lock,
                             [&] { return lane.stopping || !lane.queue.empty(); });
        if (lane.queue.empty()) {
            return; // stopping and drained
        }
        Entry entry = std::move(lane.queue.front());
        lane.queue.pop_front();
        ++lane.running;
        lock.unlock();

        try {
            entry.job();
        } catch (...) {
            (entry.owner != nullptr ? *entry.owner : errors_).record_current();
        }
        entry.job = nullptr; // release captured buffers outside the lock

        lock.lock();
        --lane.running;
        lane.bytes_in_flight -= entry.bytes;
        if (entry.share != nullptr) {
            entry.share->bytes_ -= entry.bytes;
        }
        lane.space_ready.notify_all();
        if (idle()) {
            idle_.notify_all();
        }
    }
}

} // namespace zarr
