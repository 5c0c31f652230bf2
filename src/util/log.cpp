#include "log.hh"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace zarr::log {
namespace {
std::atomic<int> g_level{ ZarrLogLevel_Info };
std::mutex g_write_mutex;

const char*
level_name(ZarrLogLevel level)
{
    switch (level) {
        case ZarrLogLevel_Debug:
            return "DEBUG";
        case ZarrLogLevel_Info:
            return "INFO";
        case ZarrLogLevel_Warning:
            return "WARNING";
        case ZarrLogLevel_Error:
            return "ERROR";
        case ZarrLogLevel_None:
        case ZarrLogLevelCount:
            break;
    }
    return "?";
}
} // namespace

void
set_level(ZarrLogLevel new_level) noexcept
{
    g_level.store(new_level, std::memory_order_relaxed);
}

ZarrLogLevel
level() noexcept
{
    return static_cast<ZarrLogLevel>(g_level.load(std::memory_order_relaxed));
}

void
write(ZarrLogLevel at, const std::string& message) noexcept
{
    if (at < level() || at >= ZarrLogLevel_None) {
        return;
    }
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      now.time_since_epoch())
                      .count() %
                    1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

    std::lock_guard lock(g_write_mutex);
    std::fprintf(stderr,
                 "%s.%03dZ [acquire-zarr] %s: %s\n",
                 stamp,
                 static_cast<int>(ms),
                 level_name(at),
                 message.c_str());
    std::fflush(stderr);
}

} // namespace zarr::log
