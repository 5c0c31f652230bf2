/* Arrays of the current API with the fields the seed era lacks: a 2-D array
 * (one y x image filled by appends in pieces, refusing more whole), an array
 * stored transposed (storage_dimension_order), and a pyramid capped by
 * max_levels, whose levels keep level 0's chunk shape. */
#include "acquire.zarr.h"
#include "check.h"

#include <string.h>

#include "read_file.h"

int
main(void)
{
    ZarrDimensionProperties image[2] = {
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 6, .chunk_size_px = 6 },
    };
    ZarrDimensionProperties czyx[4] = {
        { .name = "c", .type = ZarrDimensionType_Channel, .array_size_px = 0, .chunk_size_px = 1 },
        { .name = "z", .type = ZarrDimensionType_Space, .array_size_px = 2, .chunk_size_px = 1 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 2, .chunk_size_px = 2 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 2, .chunk_size_px = 2 },
    };
    ZarrDimensionProperties tyx[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0, .chunk_size_px = 1 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 64, .chunk_size_px = 8 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 64, .chunk_size_px = 8 },
    };
    const size_t swap_yx[4] = { 0, 1, 3, 2 };
    ZarrArraySettings arrays[3] = {
        { .output_key = "image", .dimensions = image, .dimension_count = 2 },
        { .output_key = "transposed", .dimensions = czyx, .dimension_count = 4,
          .storage_dimension_order = swap_yx },
        { .output_key = "capped", .dimensions = tyx, .dimension_count = 3, .multiscale = true,
          .max_levels = 2 },
    };
    ZarrStreamSettings s = { .store_path = "fields.zarr", .version = ZarrVersion_2,
                             .overwrite = true, .arrays = arrays, .array_count = 3 };
    ZarrStream* stream = ZarrStream_create(&s);
    CHECK(stream != NULL);

    unsigned char px[64 * 64];
    for (int i = 0; i < 64 * 64; ++i) {
        px[i] = (unsigned char)(i + 1);
    }
    size_t out = 0;
    CHECK(ZarrStream_append(stream, px, 10, &out, "image") == ZarrStatusCode_Success);
    CHECK(ZarrStream_append(stream, px + 10, 15, &out, "image") ==
          ZarrStatusCode_WriteOutOfBounds);
    CHECK(out == 0);
    CHECK(ZarrStream_append(stream, px + 10, 14, &out, "image") == ZarrStatusCode_Success);
    CHECK(ZarrStream_append(stream, px, 1, &out, "image") == ZarrStatusCode_WriteOutOfBounds);

    CHECK(ZarrStream_append(stream, px, 8, &out, "transposed") == ZarrStatusCode_Success);
    CHECK(ZarrStream_append(stream, px, sizeof px, &out, "capped") == ZarrStatusCode_Success);
    CHECK(ZarrStream_close(stream) == ZarrStatusCode_Success);

    /* The 2-D image: one chunk, the 24 bytes in order. */
    size_t n = 0;
    char* chunk = read_file("fields.zarr/image/0/0", &n);
    CHECK(chunk != NULL && n == 24);
    CHECK(memcmp(chunk, px, 24) == 0);
    free(chunk);
    CHECK(file_contains("fields.zarr/image/.zarray", "\"shape\": [\n        4,\n        6\n    ]"));

    /* Transposed: frame (z=0) [[1,2],[3,4]] is stored as x,y: 1,3,2,4. */
    chunk = read_file("fields.zarr/transposed/0/0/0/0", &n);
    CHECK(chunk != NULL && n == 4);
    CHECK(chunk[0] == 1 && chunk[1] == 3 && chunk[2] == 2 && chunk[3] == 4);
    free(chunk);

    /* max_levels 2: levels 0, 1, 2 and no 3; level 2 (16x16) keeps 8x8 chunks. */
    CHECK(file_contains("fields.zarr/capped/2/.zarray", "\"chunks\": [\n        1,\n        8,\n        8\n    ]"));
    CHECK(read_file("fields.zarr/capped/3/.zarray", NULL) == NULL);
    return 0;
}
