/* The README's C quick start: 10 frames of 1080x1920 uint16 into a sharded
 * Zarr v3 store, t unbounded. Build against the installed library with
 *   cc stream_quickstart.c $(pkg-config --cflags --libs acquire-zarr)      */
#include "acquire.zarr.h"

#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
    ZarrStreamSettings settings = {
        .store_path = "my_stream.zarr",
        .s3_settings = NULL,
        .compression_settings = NULL,
        .data_type = ZarrDataType_uint16,
        .version = ZarrVersion_3,
        .max_threads = 0, /* one per hardware thread */
        .overwrite = true,
    };

    ZarrStreamSettings_create_dimension_array(&settings, 3);
    settings.dimensions[0] = (ZarrDimensionProperties){
        .name = "t",
        .type = ZarrDimensionType_Time,
        .array_size_px = 0,
        .chunk_size_px = 100,
        .shard_size_chunks = 10,
    };
    settings.dimensions[1] = (ZarrDimensionProperties){
        .name = "y",
        .type = ZarrDimensionType_Space,
        .array_size_px = 1080,
        .chunk_size_px = 270,
        .shard_size_chunks = 2,
    };
    settings.dimensions[2] = (ZarrDimensionProperties){
        .name = "x",
        .type = ZarrDimensionType_Space,
        .array_size_px = 1920,
        .chunk_size_px = 480,
        .shard_size_chunks = 2,
    };

    ZarrStream* stream = ZarrStream_create(&settings);
    ZarrStreamSettings_destroy_dimension_array(&settings);
    if (!stream) {
        fprintf(stderr, "cannot create the stream: %s\n", Zarr_get_last_error());
        return 1;
    }

    const size_t frame_bytes = 1080 * 1920 * sizeof(uint16_t);
    uint16_t* frame = malloc(frame_bytes);
    if (!frame) {
        ZarrStream_destroy(stream);
        return 1;
    }
    for (int t = 0; t < 10; ++t) {
        for (size_t i = 0; i < 1080 * 1920; ++i) {
            frame[i] = (uint16_t)(i + (size_t)t * 7);
        }
        size_t bytes_written = 0;
        ZarrStatusCode status =
          ZarrStream_append(stream, frame, frame_bytes, &bytes_written);
        if (status != ZarrStatusCode_Success || bytes_written != frame_bytes) {
            fprintf(stderr, "append failed: %s\n", Zarr_get_last_error());
            free(frame);
            ZarrStream_destroy(stream);
            return 1;
        }
    }
    free(frame);

    /* ZarrStream_destroy(stream) also flushes; close reports the outcome. */
    if (ZarrStream_close(stream) != ZarrStatusCode_Success) {
        fprintf(stderr, "close failed: %s\n", Zarr_get_last_error());
        return 1;
    }
    printf("wrote my_stream.zarr\n");
    return 0;
}
