/* Appends whose byte counts split elements (1 byte, then 3, then a frame
 * minus one...) with multiscale on: every frame after the first starts at an
 * odd address in the caller's buffer. The library must realign what its
 * downsampler reads (UndefinedBehaviorSanitizer checks this in CI) and write
 * every frame. The Python tests check the values read back. */
#include "acquire.zarr.h"
#include "check.h"

#include <stdint.h>
#include <string.h>

static void
run(ZarrDataType type, size_t bytes_per_element, const char* path)
{
    ZarrDimensionProperties dims[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0, .chunk_size_px = 2 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 12, .chunk_size_px = 4 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 10, .chunk_size_px = 4 },
    };
    ZarrStreamSettings settings = {
        .store_path = path,
        .dimensions = dims,
        .dimension_count = 3,
        .multiscale = true,
        .data_type = type,
        .version = ZarrVersion_3,
        .downsampling_method = ZarrDownsamplingMethod_Mean,
        .overwrite = true,
    };
    ZarrStream* stream = ZarrStream_create(&settings);
    CHECK(stream != NULL);

    enum { FRAMES = 7 };
    const size_t frame = 12 * 10 * bytes_per_element;
    static uint8_t data[FRAMES * 12 * 10 * 8 + 1];
    uint8_t* buffer = data + 1; /* odd address */
    for (size_t i = 0; i < FRAMES * frame; ++i) {
        buffer[i] = (uint8_t)(i * 7 + 3);
    }
    const size_t pieces[] = { 1, 3, frame - 1, 2 * frame + 1, frame - 4, 0 };
    size_t offset = 0;
    for (size_t k = 0; pieces[k] != 0; ++k) {
        size_t written = 0;
        CHECK(ZarrStream_append(stream, buffer + offset, pieces[k], &written) ==
              ZarrStatusCode_Success);
        CHECK(written == pieces[k]);
        offset += pieces[k];
    }
    size_t written = 0;
    CHECK(ZarrStream_append(stream, buffer + offset, FRAMES * frame - offset, &written) ==
          ZarrStatusCode_Success);
    CHECK(ZarrStream_close(stream) == ZarrStatusCode_Success);
}

int
main(void)
{
    run(ZarrDataType_uint16, 2, "odd_u16.zarr");
    run(ZarrDataType_int32, 4, "odd_i32.zarr");
    run(ZarrDataType_float32, 4, "odd_f32.zarr");
    run(ZarrDataType_float64, 8, "odd_f64.zarr");
    printf("odd appends: ok\n");
    return 0;
}
