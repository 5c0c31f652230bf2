// Recycles equally sized byte buffers so that the steady state of a stream
// allocates nothing. Thread-safe: workers give buffers back.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace zarr {

/// Buffers are aligned for direct I/O (and to whole pages).
inline constexpr size_t kBufferAlignment = 4096;

struct AlignedDelete
{
    void operator()(uint8_t* p) const noexcept;
};
using AlignedBytes = std::unique_ptr<uint8_t[], AlignedDelete>;

/// `n` uninitialised bytes aligned to kBufferAlignment.
AlignedBytes
allocate_aligned(size_t n);

class BufferPool;

/// A byte buffer that returns itself to its pool when destroyed.
class Buffer
{
  public:
    Buffer() = default;
    Buffer(std::shared_ptr<BufferPool> pool, AlignedBytes data,
           size_t size);
    ~Buffer();
    Buffer(Buffer&&) noexcept = default;
    Buffer& operator=(Buffer&&) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    uint8_t* data() noexcept { return data_.get(); }
    const uint8_t* data() const noexcept { return data_.get(); }
    size_t size() const noexcept { return size_; }
    explicit operator bool() const noexcept { return data_ != nullptr; }

  private:
    void give_back() noexcept;

    std::shared_ptr<BufferPool> pool_;
    AlignedBytes data_;
    size_t size_ = 0;
};

class BufferPool : public std::enable_shared_from_this<BufferPool>
{
  public:
    /// Buffers of `buffer_size` bytes; at most `max_idle` are kept for reuse.
    static std::shared_ptr<BufferPool> create(size_t buffer_size,
                                              size_t max_idle);

    /// A buffer of buffer_size() bytes with unspecified contents.
    Buffer acquire();

    /// Allocates up to `at_most` buffers and touches their pages (so that
    /// their page faults are taken here, not by whoever fills them first),
    /// stopping when `target` buffers exist, counting those handed out.
    /// Meant for a background thread while the stream starts; never exceeds
    /// the idle limit. True if the target is not reached yet.
    bool warm(size_t target, size_t at_most = SIZE_MAX);

    /// Makes warm() return at its next buffer (the stream is closing).
    void stop_warming() noexcept { stop_warming_.store(true); }

    /// Buffers allocated and not freed: handed out or idle.
    size_t live_buffers();
    size_t buffer_size() const noexcept { return buffer_size_; }

  private:
    friend class Buffer;
    BufferPool(size_t buffer_size, size_t max_idle);
    void recycle(AlignedBytes data) noexcept;
    /// A new buffer, counted as live, unless `limit` buffers are live.
    AlignedBytes allocate(size_t limit);

    const size_t buffer_size_;
    const size_t max_idle_;
    std::mutex mutex_;
    std::vector<AlignedBytes> idle_;
    size_t live_ = 0; // buffers allocated and not yet freed
    std::atomic<bool> stop_warming_{ false };
};

} // namespace zarr
