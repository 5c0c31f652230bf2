/* A downstream program built with find_package(acquire-zarr). */
#include <acquire.zarr.h>
#include <stdio.h>
#include <string.h>

int
main(void)
{
    ZarrDimensionProperties dims[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .chunk_size_px = 1 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
    };
    ZarrStreamSettings settings = { .store_path = "consumer.zarr", .dimensions = dims,
                                    .dimension_count = 3, .data_type = ZarrDataType_uint8,
                                    .version = ZarrVersion_3, .overwrite = true };
    ZarrStream* stream = ZarrStream_create(&settings);
    if (!stream) {
        fprintf(stderr, "%s\n", Zarr_get_last_error());
        return 1;
    }
    unsigned char frame[16];
    memset(frame, 7, sizeof(frame));
    size_t out = 0;
    if (ZarrStream_append(stream, frame, sizeof(frame), &out) != ZarrStatusCode_Success ||
        ZarrStream_close(stream) != ZarrStatusCode_Success) {
        fprintf(stderr, "%s\n", Zarr_get_last_error());
        return 1;
    }
    printf("consumer linked acquire-zarr %s\n", Zarr_get_api_version());
    return 0;
}
