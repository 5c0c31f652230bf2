#include "buffer_pool.hh"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>

#include <sys/mman.h>


namespace zarr {

void
AlignedDelete::operator()(uint8_t* p) const noexcept
{
    if (mapped != 0) {
        ::munmap(p, mapped);
    } else {
        ::operator delete[](p, std::align_val_t(kBufferAlignment));
    }
}

AlignedBytes
allocate_aligned(size_t n, size_t populate)
{
    populate = std::min(populate, n);
    if (kMapsLargeBuffers && n >= kMappedBufferBytes) {
        // Mappings start on a page, which is at least kBufferAlignment.
        static_assert(kBufferAlignment <= 4096);
        const auto whole = [](size_t k) {
            return (k + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
        };
        const size_t length = whole(n);
        void* p =
          ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            if (populate > 0 && ::madvise(p, whole(populate), MADV_POPULATE_WRITE) != 0) {
                std::memset(p, 0, populate);
            }
            return AlignedBytes(static_cast<uint8_t*>(p), AlignedDelete{ length });
        }
        // Out of mappings (vm.max_map_count) or of memory: malloc's heap may
        // still have room, and otherwise throws.
    }
    AlignedBytes bytes(static_cast<uint8_t*>(
      ::operator new[](n, std::align_val_t(kBufferAlignment))));
    std::memset(bytes.get(), 0, populate);
    return bytes;
}

Buffer::Buffer(std::shared_ptr<BufferPool> pool,
               AlignedBytes data,
               size_t size)
  : pool_(std::move(pool))
  , data_(std::move(data))
  , size_(size)
{
}

Buffer::~Buffer()
{
    give_back();
}

Buffer&
Buffer::operator=(Buffer&& other) noexcept
{
    if (this != &other) {
        give_back();
        pool_ = std::move(other.pool_);
        data_ = std::move(other.data_);
        size_ = other.size_;
        other.size_ = 0;
    }
    return *this;
}

void
Buffer::give_back() noexcept
{
    if (data_ && pool_) {
        pool_->recycle(std::move(data_));
    }
    data_.reset();
    pool_.reset();
    size_ = 0;
}

namespace {
thread_local BufferPoolRegistry* t_registry = nullptr;
}

std::shared_ptr<BufferPool>
BufferPool::create(size_t buffer_size, size_t max_idle)
{
    auto pool = std::shared_ptr<BufferPool>(new BufferPool(buffer_size, max_idle));
    if (t_registry != nullptr) {
        t_registry->add(pool);
    }
    return pool;
}

BufferPoolRegistry::Scope::Scope(BufferPoolRegistry& registry) noexcept
  : previous_(t_registry)
{
    t_registry = &registry;
}

BufferPoolRegistry::Scope::~Scope()
{
    t_registry = previous_;
}

void
BufferPoolRegistry::add(std::weak_ptr<BufferPool> pool)
{
    std::lock_guard lock(mutex_);
    pools_.push_back(std::move(pool));
}

size_t
BufferPoolRegistry::bytes_held() const
{
    std::vector<std::shared_ptr<BufferPool>> pools;
    {
        std::lock_guard lock(mutex_);
        for (const auto& weak : pools_) {
            if (auto pool = weak.lock()) {
                pools.push_back(std::move(pool));
            }
        }
    }
    size_t bytes = 0;
    for (const auto& pool : pools) {
        bytes += pool->live_buffers() * pool->buffer_size();
    }
    return bytes;
}

BufferPool::BufferPool(size_t buffer_size, size_t max_idle)
  : buffer_size_(buffer_size)
  , max_idle_(max_idle)
{
}

Buffer
BufferPool::acquire()
{
    {
        std::lock_guard lock(mutex_);
        for (auto* from : { &idle_, &spare_ }) {
            if (!from->empty()) {
                auto data = std::move(from->back());
                from->pop_back();
                return Buffer(shared_from_this(), std::move(data), buffer_size_);
            }
        }
    }
    return Buffer(shared_from_this(),
                  allocate(std::numeric_limits<size_t>::max()),
                  buffer_size_);
}

AlignedBytes
BufferPool::allocate(size_t limit, size_t populate)
{
    {
        std::lock_guard lock(mutex_);
        if (live_ >= limit) {
            return nullptr;
        }
        ++live_;
    }
    try {
        return allocate_aligned(buffer_size_, populate);
    } catch (...) {
        std::lock_guard lock(mutex_);
        --live_;
        throw;
    }
}

bool
BufferPool::warm(size_t target, size_t at_most)
{
    target = std::min(target, max_idle_);
    for (size_t i = 0; i < at_most; ++i) {
        if (stop_warming_.load()) {
            return false;
        }
        AlignedBytes data = allocate(target, buffer_size_); // every page faulted in
        if (!data) {
            return false;
        }
        recycle(std::move(data));
    }
    std::lock_guard lock(mutex_);
    return live_ < target && !stop_warming_.load();
}

void
BufferPool::prefill(size_t count, size_t populate)
{
    count = std::min(count, max_idle_);
    {
        std::lock_guard lock(mutex_);
        spare_.reserve(count);
    }
    for (AlignedBytes data = allocate(count, populate); data;
         data = allocate(count, populate)) {
        std::lock_guard lock(mutex_);
        spare_.push_back(std::move(data)); // reserved: does not throw
    }
}

void
BufferPool::release_never_used() noexcept
{
    std::vector<AlignedBytes> unused;
    {
        std::lock_guard lock(mutex_);
        unused.swap(spare_);
        live_ -= unused.size();
    }
    // Unmapped here, outside the lock.
}

size_t
BufferPool::live_buffers()
{
    std::lock_guard lock(mutex_);
    return live_;
}

void
BufferPool::recycle(AlignedBytes data) noexcept
{
    std::lock_guard lock(mutex_);
    if (idle_.size() + spare_.size() < max_idle_) {
        try {
            idle_.push_back(std::move(data));
            return;
        } catch (...) {
            // dropping the buffer frees it
        }
    }
    --live_;
}

} // namespace zarr
