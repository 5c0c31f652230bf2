// Errors inside the library are exceptions carrying a ZarrStatusCode; the C
// boundary (src/api) is the only place that converts them to status codes.
#pragma once

#include "zarr.types.h"

#include <atomic>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace zarr {

class Error : public std::runtime_error
{
  public:
    Error(ZarrStatusCode code, const std::string& message)
      : std::runtime_error(message)
      , code_(code)
    {
    }
    ZarrStatusCode code() const noexcept { return code_; }

  private:
    ZarrStatusCode code_;
};

/// Concatenates anything streamable into one string.
template<typename... Args>
std::string
cat(Args&&... args)
{
    std::ostringstream os;
    (os << ... << std::forward<Args>(args));
    return os.str();
}

/// Offset of the first byte of `s` that is not part of valid UTF-8, or
/// npos if `s` is valid.
size_t
invalid_utf8_at(std::string_view s) noexcept;

/// `s` with every byte that is not valid UTF-8 written as \xNN, so that a
/// message quoting user input is always valid text.
std::string
escape_invalid_utf8(std::string_view s);

template<typename... Args>
[[noreturn]] void
fail(ZarrStatusCode code, Args&&... args)
{
    throw Error(code, cat(std::forward<Args>(args)...));
}

/// Records the first of possibly many failures raised on worker threads, so
/// that the next append or the close can report it.
class FirstError
{
  public:
    FirstError() = default;
    /// Also records every failure into `parent` (one array's errors inside
    /// its stream's: the array stops, the stream reports).
    explicit FirstError(FirstError* parent) noexcept
      : parent_(parent)
    {
    }

    void record(ZarrStatusCode code, const std::string& message);
    /// Records the exception being handled (call from a catch block).
    void record_current() noexcept;
    bool failed() const noexcept;
    /// Throws the recorded error, if any.
    void rethrow() const;

  private:
    FirstError* parent_ = nullptr;
    mutable std::mutex mutex_;
    std::atomic<bool> failed_{ false };
    ZarrStatusCode code_ = ZarrStatusCode_Success;
    std::string message_;
};

} // namespace zarr
