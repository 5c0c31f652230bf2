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

/// Buffers of at least this many bytes are mapped from the kernel
/// directly, not taken from malloc: see allocate_aligned.
inline constexpr size_t kMappedBufferBytes = size_t{ 64 } << 10;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZARR_ADDRESS_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(ZARR_ADDRESS_SANITIZER)
/// Under AddressSanitizer every buffer comes from operator new, so that it
/// checks their bounds to the byte.
inline constexpr bool kMapsLargeBuffers = false;
#else
inline constexpr bool kMapsLargeBuffers = true;
#endif

struct AlignedDelete
{
    /// The length mapped for the buffer, or 0 if it came from operator new.
    size_t mapped = 0;

    void operator()(uint8_t* p) const noexcept;
};
using AlignedBytes = std::unique_ptr<uint8_t[], AlignedDelete>;

/// `n` uninitialised bytes aligned to kBufferAlignment. Throws
/// std::bad_alloc if there is no memory for them.
///
/// From kMappedBufferBytes up (if kMapsLargeBuffers), the bytes are an
/// anonymous mapping of their own, given back to the kernel when freed (or,
/// if the kernel refuses a mapping, from operator new).
/// Through malloc, freeing one large buffer raises glibc's mmap threshold
/// (up to 32 MiB), after which the other buffers are carved from the
/// threads' heaps among c-blosc's temporary buffers of a block, and the
/// heaps fragment and are not trimmed, so a long stream's memory grows
/// though every budget is flat (benchmarks/README.md: mapped-buffers).
///
/// The pages of the first `populate` bytes are faulted in before the buffer
/// is returned (for a mapping, by MADV_POPULATE_WRITE, which faults them in
/// faster than first writes do (benchmarks/README.md: prefill); otherwise,
/// or on kernels before 5.14, by zeroing them).
AlignedBytes
allocate_aligned(size_t n, size_t populate = 0);

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

    /// Allocates buffers, the pages of their first `populate` bytes faulted
    /// in, until `count` exist (counting those handed out; at most the idle
    /// limit), now, on the calling thread: for what the stream will need at
    /// once when it starts, so that neither its first frames nor the
    /// workers compressing them take those page faults.
    void prefill(size_t count, size_t populate);

    /// Frees the idle buffers that prefill() made and that were never
    /// handed out since: the stream needed fewer than it expected (data
    /// that compresses better). Buffers that were used stay for reuse.
    void release_never_used() noexcept;

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
    AlignedBytes allocate(size_t limit, size_t populate = 0);

    const size_t buffer_size_;
    const size_t max_idle_;
    std::mutex mutex_;
    std::vector<AlignedBytes> idle_; // given back, most recently last
    /// Made by prefill() and never handed out: handed out only when idle_
    /// is empty, so that they stay unused, and can be released, if the
    /// stream never needs that many at once.
    std::vector<AlignedBytes> spare_;
    size_t live_ = 0; // buffers allocated and not yet freed
    std::atomic<bool> stop_warming_{ false };
};

/// The buffer pools created on a thread while a Scope of the registry is
/// alive there (BufferPool::create registers each): what one stream's
/// buffers hold, counted without a lock on any allocation path.
class BufferPoolRegistry
{
  public:
    class Scope
    {
      public:
        explicit Scope(BufferPoolRegistry& registry) noexcept;
        ~Scope();
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

      private:
        BufferPoolRegistry* previous_;
    };

    /// Bytes of the buffers the registered pools hold (handed out or idle).
    size_t bytes_held() const;

  private:
    friend class BufferPool;
    void add(std::weak_ptr<BufferPool> pool);

    mutable std::mutex mutex_;
    std::vector<std::weak_ptr<BufferPool>> pools_;
};

} // namespace zarr
