/* ZarrStreamSettings_estimate_max_memory_usage is an upper bound: the
 * process's peak resident memory grows by less while two compressed arrays
 * stream, and ZarrStream_get_current_memory_usage (the buffers held) stays
 * below it too and is not zero while data is in flight. */
#include "acquire.zarr.h"
#include "check.h"

#include <stdint.h>
#include <string.h>

/* A field of /proc/self/status in bytes (0 where there is none). */
static size_t
status_bytes(const char* field)
{
    FILE* f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return 0;
    }
    char line[256];
    size_t kib = 0;
    const size_t n = strlen(field);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            kib = (size_t)strtoull(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib * 1024;
}

enum { H = 512, W = 512, FRAMES = 48 };

int
main(void)
{
    ZarrDimensionProperties dims[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .chunk_size_px = 16, .shard_size_chunks = 1 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = H, .chunk_size_px = 128,
          .shard_size_chunks = 2 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = W, .chunk_size_px = 128,
          .shard_size_chunks = 2 },
    };
    ZarrCompressionSettings lz4 = { .compressor = ZarrCompressor_Blosc1,
                                    .codec = ZarrCompressionCodec_BloscLZ4, .level = 1,
                                    .shuffle = 1 };
    ZarrArraySettings arrays[2] = {
        { .output_key = "p0", .compression_settings = &lz4, .dimensions = dims,
          .dimension_count = 3, .data_type = ZarrDataType_uint16 },
        { .output_key = "p1", .compression_settings = &lz4, .dimensions = dims,
          .dimension_count = 3, .data_type = ZarrDataType_uint16, .multiscale = true },
    };
    ZarrStreamSettings s = { .store_path = "memory.zarr", .version = ZarrVersion_3,
                             .max_threads = 2, .overwrite = true, .arrays = arrays,
                             .array_count = 2 };
    size_t estimate = 0;
    CHECK(ZarrStreamSettings_estimate_max_memory_usage(&s, &estimate) == ZarrStatusCode_Success);
    CHECK(estimate > 2 * (size_t)H * W * 2 * 16); /* at least each array's slab */
    CHECK(ZarrStreamSettings_estimate_max_memory_usage(NULL, &estimate) ==
          ZarrStatusCode_InvalidArgument);

    static uint16_t frame[H * W];
    for (size_t i = 0; i < (size_t)H * W; ++i) {
        frame[i] = (uint16_t)(i * 2654435761u >> 20);
    }
    const size_t rss_before = status_bytes("VmRSS");
    ZarrStream* stream = ZarrStream_create(&s);
    CHECK(stream != NULL);
    size_t peak_usage = 0;
    for (int f = 0; f < FRAMES; ++f) {
        size_t out = 0;
        CHECK(ZarrStream_append(stream, frame, sizeof frame, &out, "p0") ==
              ZarrStatusCode_Success);
        CHECK(ZarrStream_append(stream, frame, sizeof frame, &out, "p1") ==
              ZarrStatusCode_Success);
        size_t usage = 0;
        CHECK(ZarrStream_get_current_memory_usage(stream, &usage) == ZarrStatusCode_Success);
        CHECK(usage <= estimate);
        if (usage > peak_usage) {
            peak_usage = usage;
        }
    }
    CHECK(peak_usage > 0);
    const size_t peak_rss = status_bytes("VmHWM");
    CHECK(ZarrStream_close(stream) == ZarrStatusCode_Success);
    if (rss_before != 0 && peak_rss > rss_before) {
        fprintf(stderr, "estimate %zu, peak RSS growth %zu, peak buffers %zu\n", estimate,
                peak_rss - rss_before, peak_usage);
        CHECK(peak_rss - rss_before <= estimate);
    }
    return 0;
}
