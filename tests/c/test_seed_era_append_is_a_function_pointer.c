/* The seed-era symbols stay exported beside the header's dispatch macros:
 * `&ZarrStream_append` and `&ZarrStream_write_custom_metadata` are the
 * 4- and 3-argument functions (a macro name not followed by '(' is not
 * expanded), as old binaries and wrappers that take their address need. */
#include "acquire.zarr.h"
#include "check.h"

#include <string.h>

#include "read_file.h"

typedef ZarrStatusCode (*AppendFn)(ZarrStream*, const void*, size_t, size_t*);
typedef ZarrStatusCode (*MetadataFn)(ZarrStream*, const char*, bool);
typedef ZarrStatusCode (*AppendToFn)(ZarrStream*, const void*, size_t, size_t*, const char*);

int
main(void)
{
    AppendFn append = &ZarrStream_append;
    MetadataFn metadata = &ZarrStream_write_custom_metadata;
    AppendToFn append_to = &ZarrStream_append_to;

    ZarrDimensionProperties dims[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0, .chunk_size_px = 2 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
    };
    ZarrStreamSettings s = { .store_path = "fnptr.zarr", .dimensions = dims,
                             .dimension_count = 3, .version = ZarrVersion_2,
                             .overwrite = true };
    ZarrStream* stream = ZarrStream_create(&s);
    CHECK(stream != NULL);

    unsigned char frame[16];
    memset(frame, 9, sizeof frame);
    size_t out = 0;
    CHECK(append(stream, frame, sizeof frame, &out) == ZarrStatusCode_Success);
    CHECK(out == sizeof frame);
    CHECK(append_to(stream, NULL, sizeof frame, &out, "") == ZarrStatusCode_Success);
    CHECK(out == sizeof frame);
    CHECK(metadata(stream, "{\"a\": 1}", false) == ZarrStatusCode_Success);
    CHECK(metadata(stream, "{\"a\": 2}", false) == ZarrStatusCode_WillNotOverwrite);
    CHECK(ZarrStream_close(stream) == ZarrStatusCode_Success);

    size_t n = 0;
    char* chunk = read_file("fnptr.zarr/0/0/0/0", &n);
    CHECK(chunk != NULL && n == 32);
    CHECK(memcmp(chunk, frame, 16) == 0);
    for (int i = 16; i < 32; ++i) {
        CHECK(chunk[i] == 0);
    }
    free(chunk);
    CHECK(file_contains("fnptr.zarr/acquire.json", "\"a\": 1"));
    return 0;
}
