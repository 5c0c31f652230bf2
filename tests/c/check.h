/* A minimal assertion helper for the C integration tests: they use only the
 * public header, like any C program linking libacquire_zarr. */
#ifndef ACQUIRE_ZARR_TEST_CHECK_H
#define ACQUIRE_ZARR_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#endif
