/* Streams 32 frames of 512x512 uint16 (Blosc-Zstd, sharded Zarr v3) to an
 * S3-compatible object store, under s3://<bucket>/acquisitions/run-01.zarr.
 *
 *   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
 *       ./stream_s3 http://localhost:9000 my-bucket
 *
 * Without the environment variables the credentials come from
 * ~/.aws/credentials (profile AWS_PROFILE, else "default"). Build against
 * the installed library with
 *   cc stream_s3.c $(pkg-config --cflags --libs acquire-zarr)              */
#include "acquire.zarr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s ENDPOINT BUCKET\n", argv[0]);
        return 2;
    }

    ZarrS3Settings s3 = {
        .endpoint = argv[1],
        .bucket_name = argv[2],
        .region = NULL, /* us-east-1 */
    };
    ZarrCompressionSettings compression = {
        .compressor = ZarrCompressor_Blosc1,
        .codec = ZarrCompressionCodec_BloscZstd,
        .level = 1,
        .shuffle = 1,
    };
    ZarrStreamSettings settings = {
        .store_path = "acquisitions/run-01.zarr", /* the key prefix */
        .s3_settings = &s3,
        .compression_settings = &compression,
        .data_type = ZarrDataType_uint16,
        .version = ZarrVersion_3,
        .overwrite = true, /* deletes what is under the prefix, nothing else */
    };

    ZarrStreamSettings_create_dimension_array(&settings, 3);
    settings.dimensions[0] = (ZarrDimensionProperties){
        .name = "t", .type = ZarrDimensionType_Time,
        .array_size_px = 0, .chunk_size_px = 16, .shard_size_chunks = 1,
    };
    settings.dimensions[1] = (ZarrDimensionProperties){
        .name = "y", .type = ZarrDimensionType_Space,
        .array_size_px = 512, .chunk_size_px = 128, .shard_size_chunks = 4,
    };
    settings.dimensions[2] = (ZarrDimensionProperties){
        .name = "x", .type = ZarrDimensionType_Space,
        .array_size_px = 512, .chunk_size_px = 128, .shard_size_chunks = 4,
    };

    /* Fails at once, with the reason, if the endpoint does not answer, the
     * bucket does not exist or the credentials are refused. */
    ZarrStream* stream = ZarrStream_create(&settings);
    ZarrStreamSettings_destroy_dimension_array(&settings);
    if (!stream) {
        fprintf(stderr, "cannot create the stream: %s\n", Zarr_get_last_error());
        return 1;
    }

    const size_t pixels = 512 * 512;
    uint16_t* frame = malloc(pixels * sizeof(uint16_t));
    if (!frame) {
        ZarrStream_destroy(stream);
        return 1;
    }
    for (int t = 0; t < 32; ++t) {
        for (size_t i = 0; i < pixels; ++i) {
            frame[i] = (uint16_t)(100 + (i % 512) + 7 * t);
        }
        size_t written = 0;
        const ZarrStatusCode rc =
          ZarrStream_append(stream, frame, pixels * sizeof(uint16_t), &written);
        if (rc != ZarrStatusCode_Success) {
            fprintf(stderr, "append failed: %s\n", Zarr_get_last_error());
            free(frame);
            ZarrStream_destroy(stream);
            return 1;
        }
    }
    free(frame);

    /* Completes every upload and rewrites the metadata; non-zero if any
     * object did not reach the store. */
    const ZarrStatusCode rc = ZarrStream_close(stream);
    if (rc != ZarrStatusCode_Success) {
        fprintf(stderr, "close failed: %s\n", Zarr_get_last_error());
        return 1;
    }
    printf("wrote s3://%s/acquisitions/run-01.zarr\n", argv[2]);
    return 0;
}
