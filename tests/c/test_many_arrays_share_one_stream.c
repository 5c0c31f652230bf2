/* One stream built from `arrays` (the current API): a plain array, a
 * one-level NGFF image, a pyramid and a bounded array, appended to in any
 * interleaving (partial frames per array, NULL data as zeros), with
 * attributes written into their nodes. Checks the bytes of uncompressed v2
 * chunks, the refusals (KeyNotFound, WriteOutOfBounds) and their messages.
 * The Python tests read such stores back with zarr-python and TensorStore. */
#include "acquire.zarr.h"
#include "check.h"

#include <stdint.h>
#include <string.h>

#include "read_file.h"

enum { H = 4, W = 4, FRAME = H * W };

static void
set_dims(ZarrArraySettings* a, uint32_t frames, uint32_t size)
{
    CHECK(ZarrArraySettings_create_dimension_array(a, 3) == ZarrStatusCode_Success);
    a->dimensions[0] = (ZarrDimensionProperties){ .name = "t", .type = ZarrDimensionType_Time,
                                                  .array_size_px = frames, .chunk_size_px = 2 };
    a->dimensions[1] = (ZarrDimensionProperties){ .name = "y", .type = ZarrDimensionType_Space,
                                                  .array_size_px = size, .chunk_size_px = H };
    a->dimensions[2] = (ZarrDimensionProperties){ .name = "x", .type = ZarrDimensionType_Space,
                                                  .array_size_px = size, .chunk_size_px = W };
}

static void
append_ok(ZarrStream* stream, const void* data, size_t n, const char* key)
{
    size_t out = 12345;
    CHECK(ZarrStream_append(stream, data, n, &out, key) == ZarrStatusCode_Success);
    CHECK(out == n);
}

int
main(void)
{
    ZarrStreamSettings s = { .store_path = "many.zarr", .version = ZarrVersion_2,
                             .overwrite = true };
    CHECK(ZarrStreamSettings_create_arrays(&s, 4) == ZarrStatusCode_Success);
    s.arrays[0].output_key = "/a/";
    set_dims(&s.arrays[0], 0, 4);
    s.arrays[1].output_key = "b/img";
    s.arrays[1].is_ngff = true;
    set_dims(&s.arrays[1], 0, 4);
    s.arrays[2].output_key = "c";
    s.arrays[2].multiscale = true;
    s.arrays[2].downsampling_method = ZarrDownsamplingMethod_Mean;
    set_dims(&s.arrays[2], 0, 8);
    s.arrays[3].output_key = "d";
    set_dims(&s.arrays[3], 2, 4); /* bounded: two frames */

    CHECK(ZarrStreamSettings_get_array_count(&s) == 4);
    char* key = NULL;
    CHECK(ZarrStreamSettings_get_array_key(&s, 0, &key) == ZarrStatusCode_Success);
    CHECK(strcmp(key, "a") == 0); /* normalised */
    free(key);
    CHECK(ZarrStreamSettings_get_array_key(&s, 4, &key) == ZarrStatusCode_InvalidIndex);

    ZarrStream* stream = ZarrStream_create(&s);
    CHECK(stream != NULL);
    ZarrStreamSettings_destroy_arrays(&s); /* the stream copied what it needs */
    CHECK(s.arrays == NULL && s.array_count == 0);

    uint8_t frame[FRAME], big[4 * FRAME];
    for (int i = 0; i < FRAME; ++i) {
        frame[i] = (uint8_t)(i + 1);
    }
    for (int i = 0; i < 4 * FRAME; ++i) {
        big[i] = (uint8_t)(100 + i);
    }

    /* Interleaved, with partial frames left open in several arrays. */
    append_ok(stream, frame, 10, "a");
    append_ok(stream, frame, 16, "b/img");
    append_ok(stream, big, 3, "c");
    append_ok(stream, frame + 10, 6, "a"); /* completes a's frame 0 */
    append_ok(stream, NULL, FRAME, "a");   /* a's frame 1: zeros */
    append_ok(stream, NULL, 5, "b/img");   /* half of b's frame 1 is zeros... */
    append_ok(stream, frame + 5, 11, "b/img"); /* ...and the rest data */
    append_ok(stream, big + 3, 4 * FRAME - 3, "c");

    /* Unknown keys, and no key while there are several arrays. */
    size_t out = 7;
    CHECK(ZarrStream_append(stream, frame, FRAME, &out, "nope") == ZarrStatusCode_KeyNotFound);
    CHECK(out == 0);
    CHECK(strstr(Zarr_get_last_error(), "'nope'") != NULL);
    CHECK(strstr(Zarr_get_last_error(), "'b/img'") != NULL);
    CHECK(ZarrStream_append(stream, frame, FRAME, &out, NULL) == ZarrStatusCode_KeyNotFound);
    CHECK(ZarrStream_append(stream, frame, FRAME, &out) == ZarrStatusCode_KeyNotFound);

    /* The bounded array refuses a whole append that would overflow it. */
    append_ok(stream, big, 20, "d");
    out = 7;
    CHECK(ZarrStream_append(stream, big, 13, &out, "d") == ZarrStatusCode_WriteOutOfBounds);
    CHECK(out == 0);
    CHECK(strstr(Zarr_get_last_error(), "'d'") != NULL);
    append_ok(stream, big, 12, "d"); /* exactly what fits */
    CHECK(ZarrStream_append(stream, frame, 1, &out, "d") == ZarrStatusCode_WriteOutOfBounds);

    /* Attributes: merged into a plain array's node, under a key of an
     * image group; "ome" and the image's own OME keys are refused. */
    CHECK(ZarrStream_write_custom_metadata(stream, "a", NULL, "{\"lens\": \"20x\"}") ==
          ZarrStatusCode_Success);
    CHECK(file_contains("many.zarr/a/.zattrs", "\"lens\": \"20x\""));
    CHECK(ZarrStream_write_custom_metadata(stream, "b/img", "acq", "{\"n\": 2}") ==
          ZarrStatusCode_Success);
    CHECK(file_contains("many.zarr/b/img/.zattrs", "\"acq\""));
    CHECK(file_contains("many.zarr/b/img/.zattrs", "\"multiscales\""));
    CHECK(ZarrStream_write_custom_metadata(stream, "b/img", "ome", "{}") ==
          ZarrStatusCode_InvalidArgument);
    CHECK(ZarrStream_write_custom_metadata(stream, "b/img", NULL, "{\"multiscales\": 1}") ==
          ZarrStatusCode_InvalidArgument);
    CHECK(ZarrStream_write_custom_metadata(stream, NULL, NULL, "[1]") ==
          ZarrStatusCode_InvalidArgument);
    CHECK(ZarrStream_write_custom_metadata(stream, "zz", NULL, "{}") ==
          ZarrStatusCode_KeyNotFound);
    CHECK(ZarrStream_write_custom_metadata(stream, NULL, "run", "{\"id\": 7}") ==
          ZarrStatusCode_Success);
    CHECK(file_contains("many.zarr/.zattrs", "\"run\""));

    size_t usage = 0;
    CHECK(ZarrStream_get_current_memory_usage(stream, &usage) == ZarrStatusCode_Success);
    CHECK(usage > 0);

    CHECK(ZarrStream_close(stream) == ZarrStatusCode_Success);

    /* a: one chunk of two frames: the data, then zeros. */
    size_t n = 0;
    char* chunk = read_file("many.zarr/a/0/0/0", &n);
    CHECK(chunk != NULL && n == 2 * FRAME);
    CHECK(memcmp(chunk, frame, FRAME) == 0);
    for (int i = FRAME; i < 2 * FRAME; ++i) {
        CHECK(chunk[i] == 0);
    }
    free(chunk);
    /* b: frame 1 is five zeros, then bytes 5.. of the frame. */
    chunk = read_file("many.zarr/b/img/0/0/0/0", &n);
    CHECK(chunk != NULL && n == 2 * FRAME);
    CHECK(memcmp(chunk, frame, FRAME) == 0);
    for (int i = 0; i < 5; ++i) {
        CHECK(chunk[FRAME + i] == 0);
    }
    CHECK(memcmp(chunk + FRAME + 5, frame + 5, FRAME - 5) == 0);
    free(chunk);
    /* Layout: a plain array, an image group with level 0, a pyramid. */
    CHECK(file_contains("many.zarr/a/.zarray", "\"zarr_format\": 2"));
    CHECK(file_contains("many.zarr/b/.zgroup", "\"zarr_format\": 2"));
    CHECK(file_contains("many.zarr/b/img/0/.zarray", "\"zarr_format\": 2"));
    CHECK(file_contains("many.zarr/c/1/.zarray", "\"zarr_format\": 2"));
    CHECK(file_contains("many.zarr/d/.zarray", "\"zarr_format\": 2"));
    CHECK(file_contains("many.zarr/.zgroup", "\"zarr_format\": 2"));
    return 0;
}
