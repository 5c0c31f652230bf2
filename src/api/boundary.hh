// What the translation units of the C boundary share: the last-error record
// and the wrapper that turns every exception into a status code.
#pragma once

#include "../util/error.hh"
#include "zarr.types.h"

#include <new>
#include <string>

namespace zarr::api {

/// Records `message` as the calling thread's last error (and logs it).
ZarrStatusCode
record(ZarrStatusCode code, const std::string& message, bool log_it = true);

/// Runs `fn`, mapping every exception to a status code and a last-error text.
template<typename Fn>
ZarrStatusCode
guarded(const char* what, Fn&& fn)
{
    try {
        fn();
        return ZarrStatusCode_Success;
    } catch (const zarr::Error& e) {
        // Refusing to overwrite is an answer, not a failure worth an Error line.
        return record(e.code(), e.what(), e.code() != ZarrStatusCode_WillNotOverwrite);
    } catch (const std::bad_alloc&) {
        return record(ZarrStatusCode_OutOfMemory, zarr::cat(what, ": out of memory"));
    } catch (const std::exception& e) {
        return record(ZarrStatusCode_InternalError,
                      zarr::cat(what, ": internal error: ", e.what()));
    } catch (...) {
        return record(ZarrStatusCode_InternalError, zarr::cat(what, ": unknown internal error"));
    }
}

} // namespace zarr::api
