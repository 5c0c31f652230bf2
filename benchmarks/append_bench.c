/* The small-frame scenarios from C: a tight loop of ZarrStream_append, one
 * frame per call, timed as a whole (no timer per call), then a durable
 * close. Prints one JSON line: microseconds per append and frames/s to the
 * end of close. run.py builds it against the library's build tree and hands
 * it the scenario's frames (8 frames in a raw file, cycled, the very pool the
 * Python writers append).
 *
 *   append_bench STORE POOL_FILE FRAMES BYTES_PER_PIXEL LZ4(0|1)
 *                HEIGHT WIDTH CHUNK_T CHUNK_Y CHUNK_X SHARD_T SHARD_Y SHARD_X
 */
#include "acquire.zarr.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { POOL = 8 };

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static ZarrDimensionProperties
dimension(const char* name, ZarrDimensionType type, uint32_t size, uint32_t chunk, uint32_t shard)
{
    return (ZarrDimensionProperties){ .name = name, .type = type, .array_size_px = size,
                                      .chunk_size_px = chunk, .shard_size_chunks = shard };
}

static unsigned char*
read_pool(const char* path, size_t bytes)
{
    FILE* f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    unsigned char* pool = malloc(bytes);
    if (pool && fread(pool, 1, bytes, f) != bytes) {
        free(pool);
        pool = NULL;
    }
    fclose(f);
    return pool;
}

int
main(int argc, char** argv)
{
    if (argc != 14) {
        fprintf(stderr, "usage: %s STORE POOL_FILE FRAMES BYTES_PER_PIXEL LZ4 HEIGHT WIDTH "
                        "CHUNK_T CHUNK_Y CHUNK_X SHARD_T SHARD_Y SHARD_X\n", argv[0]);
        return 2;
    }
    const long frames = atol(argv[3]);
    const int pixel_bytes = atoi(argv[4]);
    const int lz4 = atoi(argv[5]);
    uint32_t v[8];
    for (int i = 0; i < 8; ++i) {
        v[i] = (uint32_t)strtoul(argv[6 + i], NULL, 10);
    }
    const size_t frame_bytes = (size_t)v[0] * v[1] * (size_t)pixel_bytes;
    unsigned char* pool = read_pool(argv[2], frame_bytes * POOL);
    if (!pool) {
        fprintf(stderr, "cannot read %zu bytes of frames from %s\n", frame_bytes * POOL, argv[2]);
        return 1;
    }

    ZarrCompressionSettings compression = { .compressor = ZarrCompressor_Blosc1,
                                            .codec = ZarrCompressionCodec_BloscLZ4,
                                            .level = 1, .shuffle = 1 };
    ZarrStreamSettings settings = {
        .store_path = argv[1],
        .compression_settings = lz4 ? &compression : NULL,
        .data_type = pixel_bytes == 1 ? ZarrDataType_uint8 : ZarrDataType_uint16,
        .version = ZarrVersion_3,
        .max_threads = 0,
        .overwrite = true,
    };
    ZarrStreamSettings_create_dimension_array(&settings, 3);
    settings.dimensions[0] = dimension("t", ZarrDimensionType_Time, 0, v[2], v[5]);
    settings.dimensions[1] = dimension("y", ZarrDimensionType_Space, v[0], v[3], v[6]);
    settings.dimensions[2] = dimension("x", ZarrDimensionType_Space, v[1], v[4], v[7]);
    ZarrStream* stream = ZarrStream_create(&settings);
    ZarrStreamSettings_destroy_dimension_array(&settings);
    if (!stream) {
        fprintf(stderr, "cannot create the stream: %s\n", Zarr_get_last_error());
        free(pool);
        return 1;
    }

    const double t0 = now_s();
    for (long i = 0; i < frames; ++i) {
        size_t written = 0;
        const ZarrStatusCode status =
          ZarrStream_append(stream, pool + (size_t)(i % POOL) * frame_bytes, frame_bytes, &written);
        if (status != ZarrStatusCode_Success || written != frame_bytes) {
            fprintf(stderr, "append %ld: %s\n", i, Zarr_get_last_error());
            ZarrStream_destroy(stream);
            free(pool);
            return 1;
        }
    }
    const double t1 = now_s();
    const ZarrStatusCode closed = ZarrStream_close(stream);
    const double t2 = now_s();
    free(pool);
    if (closed != ZarrStatusCode_Success) {
        fprintf(stderr, "close: %s\n", Zarr_get_last_error());
        return 1;
    }
    printf("{\"frames\": %ld, \"append_us\": %.4f, \"frames_per_s\": %.1f, \"close_s\": %.4f}\n",
           frames, (t1 - t0) / (double)frames * 1e6, (double)frames / (t2 - t0), t2 - t1);
    return 0;
}
