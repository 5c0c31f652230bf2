// Reading enum values that come from C callers.
#pragma once

#include <cstring>

namespace zarr {

/// The integer a C caller stored in (or passed as) an enum. A C caller may
/// use any int; reading a value outside the enum's range through the enum
/// type is undefined behaviour in C++, so the bytes are copied into an int.
template<typename E>
int
raw_enum(const E& value) noexcept
{
    static_assert(sizeof(E) == sizeof(int));
    int out = 0;
    std::memcpy(&out, &value, sizeof(out));
    return out;
}

} // namespace zarr
