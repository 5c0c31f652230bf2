#include "descriptor_budget.hh"

#include <algorithm>
#include <sys/resource.h>

namespace zarr::storage {

DescriptorBudget::DescriptorBudget(size_t limit)
  : limit_(std::max<size_t>(limit, 2))
{
}

size_t
DescriptorBudget::default_limit()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        return 1024;
    }
    return std::max<size_t>(static_cast<size_t>(rl.rlim_cur) / 4, 8);
}

DescriptorBudget::Use::Use(DescriptorBudget& budget, Holder& holder)
  : budget_(budget)
  , holder_(holder)
{
    budget_.acquire(holder_);
}

DescriptorBudget::Use::~Use()
{
    budget_.release(holder_);
}

void
DescriptorBudget::make_room(size_t wanted)
{
    while (held_ + wanted > limit_ && !idle_.empty()) {
        Holder* victim = idle_.front();
        idle_.pop_front();
        victim->idle_ = false;
        victim->close_descriptors();
        held_ -= victim->held_;
        victim->held_ = 0;
    }
}

void
DescriptorBudget::acquire(Holder& holder)
{
    std::lock_guard lock(mutex_);
    if (holder.idle_) {
        idle_.erase(holder.idle_at_);
        holder.idle_ = false;
    }
    if (holder.held_ == 0) {
        make_room(holder.descriptors_needed());
        holder.held_ = holder.open_descriptors();
        held_ += holder.held_;
        peak_ = std::max(peak_, held_);
    }
    ++holder.users_;
}

void
DescriptorBudget::release(Holder& holder) noexcept
{
    std::lock_guard lock(mutex_);
    if (--holder.users_ == 0 && holder.held_ > 0) {
        idle_.push_back(&holder);
        holder.idle_at_ = std::prev(idle_.end());
        holder.idle_ = true;
        // Over the limit (every holder was busy when this one opened):
        // give back what is idle now.
        make_room(0);
    }
}

void
DescriptorBudget::retire(Holder& holder) noexcept
{
    std::lock_guard lock(mutex_);
    if (holder.idle_) {
        idle_.erase(holder.idle_at_);
        holder.idle_ = false;
    }
    if (holder.held_ > 0) {
        holder.close_descriptors();
        held_ -= holder.held_;
        holder.held_ = 0;
    }
}

size_t
DescriptorBudget::held() const
{
    std::lock_guard lock(mutex_);
    return held_;
}

size_t
DescriptorBudget::peak() const
{
    std::lock_guard lock(mutex_);
    return peak_;
}

} // namespace zarr::storage
