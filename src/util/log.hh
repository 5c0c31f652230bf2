// Process-wide logging to stderr, filtered by a level set through the C API.
#pragma once

#include "error.hh"

#include <string>

namespace zarr::log {

void
set_level(ZarrLogLevel level) noexcept;

ZarrLogLevel
level() noexcept;

void
write(ZarrLogLevel level, const std::string& message) noexcept;

template<typename... Args>
void
error(Args&&... args)
{
    if (level() <= ZarrLogLevel_Error) {
        write(ZarrLogLevel_Error, cat(std::forward<Args>(args)...));
    }
}

template<typename... Args>
void
warning(Args&&... args)
{
    if (level() <= ZarrLogLevel_Warning) {
        write(ZarrLogLevel_Warning, cat(std::forward<Args>(args)...));
    }
}

template<typename... Args>
void
info(Args&&... args)
{
    if (level() <= ZarrLogLevel_Info) {
        write(ZarrLogLevel_Info, cat(std::forward<Args>(args)...));
    }
}

template<typename... Args>
void
debug(Args&&... args)
{
    if (level() <= ZarrLogLevel_Debug) {
        write(ZarrLogLevel_Debug, cat(std::forward<Args>(args)...));
    }
}

} // namespace zarr::log
