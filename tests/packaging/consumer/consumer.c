/* Streams 3 frames of 4x4 uint16 (value = 100 * frame + pixel index) into
 * three Zarr v2 stores through the tarball's library: uncompressed,
 * Blosc1-zstd and plain zstd, one frame per chunk. Checks the raw chunks
 * byte for byte, and that the compressed chunks carry a Blosc header for 32
 * bytes of 2-byte items and a zstd frame's magic number (so the bundled
 * libblosc and libzstd ran). Exits non-zero with the reason otherwise. */
#include <acquire.zarr.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 3
#define SIDE 4
#define FRAME_BYTES (SIDE * SIDE * sizeof(uint16_t))

static int
fail(const char* what, const char* detail)
{
    fprintf(stderr, "consumer: %s: %s\n", what, detail);
    return 1;
}

static int
stream(const char* path, ZarrCompressionSettings* compression)
{
    ZarrDimensionProperties dims[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0, .chunk_size_px = 1 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = SIDE, .chunk_size_px = SIDE },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = SIDE, .chunk_size_px = SIDE },
    };
    ZarrStreamSettings settings = { .store_path = path, .compression_settings = compression,
                                    .dimensions = dims, .dimension_count = 3,
                                    .data_type = ZarrDataType_uint16,
                                    .version = ZarrVersion_2, .overwrite = true };
    ZarrStream* s = ZarrStream_create(&settings);
    if (!s) {
        return fail(path, Zarr_get_last_error());
    }
    for (int t = 0; t < FRAMES; ++t) {
        uint16_t frame[SIDE * SIDE];
        for (int i = 0; i < SIDE * SIDE; ++i) {
            frame[i] = (uint16_t)(100 * t + i);
        }
        size_t written = 0;
        if (ZarrStream_append(s, frame, FRAME_BYTES, &written) != ZarrStatusCode_Success ||
            written != FRAME_BYTES) {
            ZarrStream_destroy(s);
            return fail(path, Zarr_get_last_error());
        }
    }
    return ZarrStream_close(s) == ZarrStatusCode_Success ? 0 : fail(path, Zarr_get_last_error());
}

/* The chunk of frame t (array "0", dimension separator "/"), up to cap bytes. */
static size_t
read_chunk(const char* store, int t, unsigned char* buf, size_t cap)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/0/%d/0/0", store, t);
    FILE* f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "consumer: cannot open %s\n", path);
        return 0;
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int
check_raw(void)
{
    for (int t = 0; t < FRAMES; ++t) {
        unsigned char buf[2 * FRAME_BYTES];
        if (read_chunk("raw.zarr", t, buf, sizeof(buf)) != FRAME_BYTES) {
            return fail("raw.zarr", "a chunk is not 32 bytes");
        }
        for (int i = 0; i < SIDE * SIDE; ++i) {
            uint16_t v = (uint16_t)(buf[2 * i] | buf[2 * i + 1] << 8);
            if (v != 100 * t + i) {
                return fail("raw.zarr", "a pixel differs from what was appended");
            }
        }
    }
    return 0;
}

static int
check_compressed(void)
{
    static const unsigned char zstd_magic[4] = { 0x28, 0xB5, 0x2F, 0xFD };
    for (int t = 0; t < FRAMES; ++t) {
        unsigned char buf[256];
        /* Blosc1 header: version, format, flags, typesize, nbytes (LE32). */
        size_t n = read_chunk("blosc.zarr", t, buf, sizeof(buf));
        uint32_t nbytes = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
                          (uint32_t)buf[7] << 24;
        if (n < 16 || buf[3] != 2 || nbytes != FRAME_BYTES) {
            return fail("blosc.zarr", "a chunk has no Blosc header for 32 bytes of uint16");
        }
        n = read_chunk("zstd.zarr", t, buf, sizeof(buf));
        if (n < 4 || memcmp(buf, zstd_magic, 4) != 0) {
            return fail("zstd.zarr", "a chunk is not a zstd frame");
        }
    }
    return 0;
}

int
main(void)
{
    Zarr_set_log_level(ZarrLogLevel_None);
    ZarrCompressionSettings blosc = { .compressor = ZarrCompressor_Blosc1,
                                      .codec = ZarrCompressionCodec_BloscZstd,
                                      .level = 5, .shuffle = 1 };
    ZarrCompressionSettings zstd = { .compressor = ZarrCompressor_Zstd,
                                     .codec = ZarrCompressionCodec_Zstd };
    if (stream("raw.zarr", NULL) || stream("blosc.zarr", &blosc) || stream("zstd.zarr", &zstd) ||
        check_raw() || check_compressed()) {
        return 1;
    }
    printf("consumer: acquire-zarr %s wrote and checked %d frames x 3 stores\n",
           Zarr_get_api_version(), FRAMES);
    return 0;
}
