/* A write that fails in one array must not lose what the other arrays were
 * given: the store under "bad" is broken after create (a file where its
 * chunk directory goes), frames go to both arrays, and close reports the
 * failure, says what each array kept, and "good" has every frame. */
#include "acquire.zarr.h"
#include "check.h"

#include <string.h>

#include "read_file.h"

enum { FRAME = 16, FRAMES = 6 };

int
main(void)
{
    ZarrDimensionProperties dims[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0, .chunk_size_px = 2 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
    };
    ZarrArraySettings arrays[2] = {
        { .output_key = "bad", .dimensions = dims, .dimension_count = 3 },
        { .output_key = "good", .dimensions = dims, .dimension_count = 3 },
    };
    ZarrStreamSettings s = { .store_path = "failing.zarr", .version = ZarrVersion_2,
                             .max_threads = 1, .overwrite = true, .arrays = arrays,
                             .array_count = 2 };
    ZarrStream* stream = ZarrStream_create(&s);
    CHECK(stream != NULL);
    FILE* blocker = fopen("failing.zarr/bad/0", "w"); /* where bad/0/0/0 would go */
    CHECK(blocker != NULL);
    fclose(blocker);

    unsigned char frame[FRAME];
    int good_frames = 0; /* accepted by the library */
    for (int f = 0; f < FRAMES; ++f) {
        memset(frame, f + 1, sizeof frame);
        size_t out = 0;
        /* "bad" may report its failure at any later append: ignore it. */
        (void)ZarrStream_append(stream, frame, sizeof frame, &out, "bad");
        /* Accepted bytes are kept even when the call reports bad's
         * failure, recorded meanwhile. */
        (void)ZarrStream_append(stream, frame, sizeof frame, &out, "good");
        good_frames += out == sizeof frame;
    }
    CHECK(ZarrStream_close(stream) != ZarrStatusCode_Success);
    const char* error = Zarr_get_last_error();
    fprintf(stderr, "close: %s\n", error);
    CHECK(strstr(error, "good") != NULL);
    CHECK(strstr(error, "bad") != NULL);

    /* Every frame "good" acknowledged is stored, and its metadata shows them
     * all (chunks of two frames). */
    CHECK(good_frames >= 1);
    for (int f = 0; f < good_frames; ++f) {
        char path[64];
        snprintf(path, sizeof path, "failing.zarr/good/%d/0/0", f / 2);
        char* chunk = read_file(path, NULL);
        CHECK(chunk != NULL);
        CHECK(chunk[(f % 2) * FRAME] == f + 1);
        free(chunk);
    }
    char shape[64];
    snprintf(shape, sizeof shape, "\"shape\": [\n        %d,", good_frames);
    CHECK(file_contains("failing.zarr/good/.zarray", shape));
    return 0;
}
