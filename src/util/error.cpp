#include "error.hh"

namespace zarr {

void
FirstError::record(ZarrStatusCode code, const std::string& message)
{
    std::lock_guard lock(mutex_);
    if (failed_.load(std::memory_order_relaxed)) {
        return;
    }
    code_ = code;
    message_ = message;
    failed_.store(true, std::memory_order_release);
}

bool
FirstError::failed() const noexcept
{
    return failed_.load(std::memory_order_acquire);
}

void
FirstError::rethrow() const
{
    if (!failed()) {
        return;
    }
    std::lock_guard lock(mutex_);
    throw Error(code_, message_);
}

} // namespace zarr
