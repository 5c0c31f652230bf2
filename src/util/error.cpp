#include "error.hh"

#include <cstdint>
#include <new>
#include <cstdio>

namespace zarr {

void
FirstError::record(ZarrStatusCode code, const std::string& message)
{
    if (parent_ != nullptr) {
        parent_->record(code, message);
    }
    std::lock_guard lock(mutex_);
    if (failed_.load(std::memory_order_relaxed)) {
        return;
    }
    code_ = code;
    message_ = message;
    failed_.store(true, std::memory_order_release);
}

void
FirstError::record_current() noexcept
{
    try {
        throw;
    } catch (const Error& e) {
        record(e.code(), e.what());
    } catch (const std::bad_alloc&) {
        record(ZarrStatusCode_OutOfMemory, "out of memory in a background write");
    } catch (const std::exception& e) {
        record(ZarrStatusCode_InternalError, e.what());
    } catch (...) {
        record(ZarrStatusCode_InternalError, "unknown exception in a background write");
    }
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

size_t
invalid_utf8_at(std::string_view s) noexcept
{
    const auto* b = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = b[i];
        size_t len = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + len > n) {
            return i;
        }
        for (size_t k = 1; k < len; ++k) {
            if ((b[i + k] & 0xC0) != 0x80) {
                return i;
            }
            cp = (cp << 6) | (b[i + k] & 0x3F);
        }
        // Overlong forms, UTF-16 surrogates and values past U+10FFFF.
        const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (cp < min[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return i;
        }
        i += len;
    }
    return std::string_view::npos;
}

std::string
escape_invalid_utf8(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    while (!s.empty()) {
        const size_t bad = invalid_utf8_at(s);
        if (bad == std::string_view::npos) {
            out.append(s);
            break;
        }
        out.append(s.substr(0, bad));
        char buf[5];
        std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned char>(s[bad]));
        out.append(buf);
        s.remove_prefix(bad + 1);
    }
    return out;
}

} // namespace zarr
