#include "util/error.hh"

#include <gtest/gtest.h>

using zarr::Error;
using zarr::FirstError;

TEST(FirstError, KeepsOnlyTheFirst)
{
    FirstError e;
    EXPECT_NO_THROW(e.rethrow());
    e.record(ZarrStatusCode_CompressionError, "first");
    e.record(ZarrStatusCode_IOError, "second");
    try {
        e.rethrow();
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ZarrStatusCode_CompressionError);
        EXPECT_STREQ(err.what(), "first");
    }
}
