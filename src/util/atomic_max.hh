// Raising an atomic to at least a value, from several threads.
#pragma once

#include <atomic>
#include <cstdint>

namespace zarr {

/// Sets `a` to `v` if `v` is larger (the end of positional writes that
/// arrive in any order).
inline void
raise_to(std::atomic<uint64_t>& a, uint64_t v) noexcept
{
    uint64_t was = a.load();
    while (was < v && !a.compare_exchange_weak(was, v)) {
    }
}

} // namespace zarr
