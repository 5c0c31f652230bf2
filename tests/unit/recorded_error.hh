// The error a FirstError holds, as a value a test can check.
#pragma once

#include "util/error.hh"

#include <gtest/gtest.h>

namespace zarr::test {

/// What `errors` recorded first; with nothing recorded, a test failure and
/// an error of code Success.
inline Error
recorded_error(const FirstError& errors)
{
    try {
        errors.rethrow();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no error was recorded";
    return Error(ZarrStatusCode_Success, "");
}

} // namespace zarr::test
