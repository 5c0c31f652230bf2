/* One array's directory removed under the stream: that array's appends fail,
 * from the first that finds it gone and then every one, naming it; the other
 * arrays' appends all succeed and close says they keep every frame, which
 * their chunks hold. The removed array is not recreated. */
#include "acquire.zarr.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "read_file.h"

enum { FRAME = 16, FRAMES = 6, ARRAYS = 3 };

int
main(void)
{
    ZarrDimensionProperties dims[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0, .chunk_size_px = 1 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
    };
    const char* keys[ARRAYS] = { "a", "b", "c" };
    ZarrArraySettings arrays[ARRAYS];
    memset(arrays, 0, sizeof arrays);
    for (int a = 0; a < ARRAYS; ++a) {
        arrays[a].output_key = keys[a];
        arrays[a].dimensions = dims;
        arrays[a].dimension_count = 3;
    }
    ZarrStreamSettings s = { .store_path = "removed.zarr", .version = ZarrVersion_2,
                             .max_threads = 1, .overwrite = true, .arrays = arrays,
                             .array_count = ARRAYS };
    ZarrStream* stream = ZarrStream_create(&s);
    CHECK(stream != NULL);
    CHECK(system("rm -rf removed.zarr/b") == 0);

    unsigned char frame[FRAME];
    int b_failed = 0;
    for (int f = 0; f < FRAMES; ++f) {
        for (int a = 0; a < ARRAYS; ++a) {
            memset(frame, 16 * a + f + 1, sizeof frame);
            size_t out = 0;
            const ZarrStatusCode status =
              ZarrStream_append(stream, frame, sizeof frame, &out, keys[a]);
            if (a != 1) {
                /* Healthy storage: every frame taken, no error. */
                CHECK(status == ZarrStatusCode_Success);
                CHECK(out == sizeof frame);
                continue;
            }
            if (status != ZarrStatusCode_Success) {
                CHECK(strstr(Zarr_get_last_error(), "removed.zarr/b' was removed") != NULL);
                b_failed = 1;
            } else {
                CHECK(!b_failed); /* once failed, refused for good */
            }
        }
    }
    /* Writes are asynchronous: the failure may surface only later. */
    for (int tries = 0; !b_failed && tries < 100000; ++tries) {
        size_t out = 0;
        b_failed = ZarrStream_append(stream, frame, sizeof frame, &out, "b") !=
                   ZarrStatusCode_Success;
    }
    CHECK(b_failed);
    CHECK(strstr(Zarr_get_last_error(), "removed.zarr/b' was removed") != NULL);
    CHECK(ZarrStream_close(stream) != ZarrStatusCode_Success);
    const char* error = Zarr_get_last_error();
    fprintf(stderr, "close: %s\n", error);
    CHECK(strstr(error, "removed.zarr/b' was removed") != NULL);
    CHECK(strstr(error, "removed.zarr/a' keeps all 6 't' indices appended") != NULL);
    CHECK(strstr(error, "removed.zarr/c' keeps all 6 't' indices appended") != NULL);

    for (int a = 0; a < ARRAYS; a += 2) {
        for (int f = 0; f < FRAMES; ++f) {
            char path[64];
            snprintf(path, sizeof path, "removed.zarr/%s/%d/0/0", keys[a], f);
            size_t size = 0;
            char* chunk = read_file(path, &size);
            CHECK(chunk != NULL);
            CHECK(size == FRAME);
            CHECK(chunk[0] == 16 * a + f + 1 && chunk[FRAME - 1] == 16 * a + f + 1);
            free(chunk);
        }
        char meta[64];
        snprintf(meta, sizeof meta, "removed.zarr/%s/.zarray", keys[a]);
        CHECK(file_contains(meta, "\"shape\": [\n        6,"));
    }
    FILE* recreated = fopen("removed.zarr/b/.zarray", "r");
    CHECK(recreated == NULL);
    return 0;
}
