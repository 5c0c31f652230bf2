/* A 4-D (t, c, y, x) uint8 acquisition into a Zarr v2 store (OME-NGFF 0.4),
 * compressed with Blosc-LZ4 and byte shuffle, with physical units, custom
 * metadata in acquire.json, and frames appended two at a time. */
#include "acquire.zarr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(void)
{
    ZarrCompressionSettings compression = {
        .compressor = ZarrCompressor_Blosc1,
        .codec = ZarrCompressionCodec_BloscLZ4,
        .level = 1,
        .shuffle = 1,
    };
    ZarrDimensionProperties dims[4] = {
        { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0,
          .chunk_size_px = 5, .unit = "second", .scale = 0.1 },
        { .name = "c", .type = ZarrDimensionType_Channel, .array_size_px = 2,
          .chunk_size_px = 1 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 480,
          .chunk_size_px = 128, .unit = "micrometer", .scale = 0.5 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 640,
          .chunk_size_px = 128, .unit = "micrometer", .scale = 0.5 },
    };
    ZarrStreamSettings settings = {
        .store_path = "compressed_v2.zarr",
        .compression_settings = &compression,
        .dimensions = dims,
        .dimension_count = 4,
        .data_type = ZarrDataType_uint8,
        .version = ZarrVersion_2,
        .overwrite = true,
    };

    ZarrStream* stream = ZarrStream_create(&settings);
    if (!stream) {
        fprintf(stderr, "cannot create the stream: %s\n", Zarr_get_last_error());
        return 1;
    }

    const size_t frame_bytes = 480 * 640;
    unsigned char* two_frames = malloc(2 * frame_bytes);
    if (!two_frames) {
        ZarrStream_destroy(stream);
        return 1;
    }
    for (int t = 0; t < 12; ++t) { /* one (c0, c1) pair per timepoint */
        memset(two_frames, t, frame_bytes);
        memset(two_frames + frame_bytes, 255 - t, frame_bytes);
        size_t written = 0;
        if (ZarrStream_append(stream, two_frames, 2 * frame_bytes, &written) !=
            ZarrStatusCode_Success) {
            fprintf(stderr, "append failed: %s\n", Zarr_get_last_error());
            free(two_frames);
            ZarrStream_destroy(stream);
            return 1;
        }
    }
    free(two_frames);

    if (ZarrStream_write_custom_metadata(
          stream, "{\"microscope\": \"example\", \"objective\": \"20x\"}", false) !=
        ZarrStatusCode_Success) {
        fprintf(stderr, "custom metadata failed: %s\n", Zarr_get_last_error());
    }
    if (ZarrStream_close(stream) != ZarrStatusCode_Success) {
        fprintf(stderr, "close failed: %s\n", Zarr_get_last_error());
        return 1;
    }
    printf("wrote compressed_v2.zarr\n");
    return 0;
}
