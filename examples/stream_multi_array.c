/* Several arrays in one stream (acquire-zarr's current API), the C twin of
 * examples/multi_array.py: a t/c/y/x uint16 time-lapse at two stage
 * positions, each an OME-NGFF image group with a 2-level pyramid, plus a
 * plain 512 x 512 uint8 overview (a 2-D array). Frames arrive round-robin,
 * and each append names its array (the 5-argument ZarrStream_append).
 *
 * Writes multi_array.zarr: pos0/, pos1/ (image groups with levels 0 and 1,
 * attributes.stage written by ZarrStream_write_custom_metadata) and
 * overview (a plain array). */
#include "acquire.zarr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum
{
    TIMEPOINTS = 4,
    CHANNELS = 2,
    HEIGHT = 256,
    WIDTH = 320,
    OVERVIEW = 512
};

static int
fail(const char* what, ZarrStream* stream)
{
    fprintf(stderr, "%s failed: %s\n", what, Zarr_get_last_error());
    ZarrStream_destroy(stream); /* NULL-safe */
    return 1;
}

/* Position arrays: t (unbounded), c, y, x; LZ4; a pyramid of one more level. */
static ZarrStatusCode
set_position(ZarrArraySettings* array,
             const char* key,
             ZarrCompressionSettings* compression)
{
    array->output_key = key;
    array->compression_settings = compression;
    array->data_type = ZarrDataType_uint16;
    array->multiscale = true;
    array->downsampling_method = ZarrDownsamplingMethod_Mean;
    array->max_levels = 1; /* level 0 and one downsampled level */

    ZarrStatusCode status = ZarrArraySettings_create_dimension_array(array, 4);
    if (status != ZarrStatusCode_Success) {
        return status;
    }
    array->dimensions[0] = (ZarrDimensionProperties){
        .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0,
        .chunk_size_px = 2, .shard_size_chunks = 1, .unit = "second",
        .scale = 30.0 };
    array->dimensions[1] = (ZarrDimensionProperties){
        .name = "c", .type = ZarrDimensionType_Channel,
        .array_size_px = CHANNELS, .chunk_size_px = 1, .shard_size_chunks = 1 };
    array->dimensions[2] = (ZarrDimensionProperties){
        .name = "y", .type = ZarrDimensionType_Space, .array_size_px = HEIGHT,
        .chunk_size_px = 128, .shard_size_chunks = 2, .unit = "micrometer",
        .scale = 0.65 };
    array->dimensions[3] = (ZarrDimensionProperties){
        .name = "x", .type = ZarrDimensionType_Space, .array_size_px = WIDTH,
        .chunk_size_px = 128, .shard_size_chunks = 2, .unit = "micrometer",
        .scale = 0.65 };
    return ZarrStatusCode_Success;
}

/* The overview: two dimensions, one bounded image; no pyramid and is_ngff
 * left false, so a plain array node. */
static ZarrStatusCode
set_overview(ZarrArraySettings* array)
{
    array->output_key = "overview";
    array->data_type = ZarrDataType_uint8;
    ZarrStatusCode status = ZarrArraySettings_create_dimension_array(array, 2);
    if (status != ZarrStatusCode_Success) {
        return status;
    }
    array->dimensions[0] = (ZarrDimensionProperties){
        .name = "y", .type = ZarrDimensionType_Space, .array_size_px = OVERVIEW,
        .chunk_size_px = OVERVIEW, .shard_size_chunks = 1 };
    array->dimensions[1] = (ZarrDimensionProperties){
        .name = "x", .type = ZarrDimensionType_Space, .array_size_px = OVERVIEW,
        .chunk_size_px = OVERVIEW, .shard_size_chunks = 1 };
    return ZarrStatusCode_Success;
}

static ZarrStream*
create_stream(void)
{
    ZarrCompressionSettings lz4 = {
        .compressor = ZarrCompressor_Blosc1,
        .codec = ZarrCompressionCodec_BloscLZ4,
        .level = 1,
        .shuffle = 1,
    };
    ZarrStreamSettings settings = {
        .store_path = "multi_array.zarr",
        .version = ZarrVersion_3,
        .overwrite = true,
    };
    ZarrStream* stream = NULL;
    if (ZarrStreamSettings_create_arrays(&settings, 3) == ZarrStatusCode_Success &&
        set_position(&settings.arrays[0], "pos0", &lz4) == ZarrStatusCode_Success &&
        set_position(&settings.arrays[1], "pos1", &lz4) == ZarrStatusCode_Success &&
        set_overview(&settings.arrays[2]) == ZarrStatusCode_Success) {
        stream = ZarrStream_create(&settings);
    }
    /* The stream copied what it needs: free the arrays and their dimensions. */
    ZarrStreamSettings_destroy_arrays(&settings);
    return stream;
}

int
main(void)
{
    ZarrStream* stream = create_stream();
    if (!stream) {
        return fail("ZarrStream_create", NULL);
    }

    /* A low-magnification scan first: where the positions are. */
    uint8_t* overview = malloc((size_t)OVERVIEW * OVERVIEW);
    uint16_t* frame = malloc((size_t)HEIGHT * WIDTH * sizeof(uint16_t));
    if (!overview || !frame) {
        free(overview);
        free(frame);
        return fail("malloc", stream);
    }
    for (size_t y = 0; y < OVERVIEW; ++y) {
        for (size_t x = 0; x < OVERVIEW; ++x) {
            overview[y * OVERVIEW + x] = (uint8_t)((y + x) % 256);
        }
    }
    size_t written = 0;
    ZarrStatusCode status = ZarrStream_append(
      stream, overview, (size_t)OVERVIEW * OVERVIEW, &written, "overview");
    free(overview);

    const char* keys[2] = { "pos0", "pos1" };
    for (int t = 0; t < TIMEPOINTS && status == ZarrStatusCode_Success; ++t) {
        for (int p = 0; p < 2 && status == ZarrStatusCode_Success; ++p) {
            /* The stage moves to position p, then one frame per channel. */
            for (int c = 0; c < CHANNELS && status == ZarrStatusCode_Success; ++c) {
                for (size_t i = 0; i < (size_t)HEIGHT * WIDTH; ++i) {
                    frame[i] = (uint16_t)(1000 * p + 100 * c + t);
                }
                status = ZarrStream_append(stream, frame,
                                           (size_t)HEIGHT * WIDTH * sizeof(uint16_t),
                                           &written, keys[p]);
            }
        }
    }
    free(frame);
    if (status != ZarrStatusCode_Success) {
        return fail("ZarrStream_append", stream);
    }

    /* Attributes of one array's node, under their own key (the 4-argument
     * ZarrStream_write_custom_metadata: array key, metadata key, JSON). */
    if (ZarrStream_write_custom_metadata(stream, "pos0", "stage",
                                         "{\"x_um\": 0.0, \"y_um\": 0.0}") !=
          ZarrStatusCode_Success ||
        ZarrStream_write_custom_metadata(stream, "pos1", "stage",
                                         "{\"x_um\": 1500.0, \"y_um\": 0.0}") !=
          ZarrStatusCode_Success) {
        return fail("ZarrStream_write_custom_metadata", stream);
    }

    /* ZarrStream_destroy works too; close also says whether every byte
     * reached the disk. */
    if (ZarrStream_close(stream) != ZarrStatusCode_Success) {
        fprintf(stderr, "ZarrStream_close failed: %s\n", Zarr_get_last_error());
        return 1;
    }
    printf("wrote multi_array.zarr\n");
    return 0;
}
