/* An OME-NGFF high-content-screening plate (acquire-zarr's current API), the
 * C twin of examples/hcs_plate.py: a 2 x 3 plate of which 3 wells are
 * imaged, 2 fields of view in well A/1 and one in the others, one
 * acquisition; each field of view is a c/z/y/x uint16 stack.
 *
 * Writes hcs_plate.zarr: the plate group experiment/ (attributes.ome.plate),
 * well groups experiment/A/1/ ... (attributes.ome.well), and one OME-NGFF
 * image group per field of view, whose array key is its path, e.g.
 * "experiment/A/1/fov0". */
#include "acquire.zarr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum
{
    CHANNELS = 2,
    PLANES = 3,
    HEIGHT = 256,
    WIDTH = 256,
    FIELDS = 4
};

/* Every field of view is stored alike: c, z, y, x with Blosc-zstd. */
static ZarrStatusCode
set_field_of_view(ZarrHCSFieldOfView* fov,
                  const char* path,
                  ZarrCompressionSettings* compression)
{
    fov->path = path;
    fov->acquisition_id = 0;
    fov->has_acquisition_id = true;

    /* ZarrHCSWell_create_image_array allocated the (zeroed) array settings;
     * a field of view has no output_key: its key is its path in the plate. */
    ZarrArraySettings* array = fov->array_settings;
    array->compression_settings = compression;
    array->data_type = ZarrDataType_uint16;
    ZarrStatusCode status = ZarrArraySettings_create_dimension_array(array, 4);
    if (status != ZarrStatusCode_Success) {
        return status;
    }
    array->dimensions[0] = (ZarrDimensionProperties){
        .name = "c", .type = ZarrDimensionType_Channel,
        .array_size_px = CHANNELS, .chunk_size_px = 1, .shard_size_chunks = 1 };
    array->dimensions[1] = (ZarrDimensionProperties){
        .name = "z", .type = ZarrDimensionType_Space, .array_size_px = PLANES,
        .chunk_size_px = PLANES, .shard_size_chunks = 1, .unit = "micrometer",
        .scale = 2.0 };
    array->dimensions[2] = (ZarrDimensionProperties){
        .name = "y", .type = ZarrDimensionType_Space, .array_size_px = HEIGHT,
        .chunk_size_px = 128, .shard_size_chunks = 2, .unit = "micrometer",
        .scale = 0.325 };
    array->dimensions[3] = (ZarrDimensionProperties){
        .name = "x", .type = ZarrDimensionType_Space, .array_size_px = WIDTH,
        .chunk_size_px = 128, .shard_size_chunks = 2, .unit = "micrometer",
        .scale = 0.325 };
    return ZarrStatusCode_Success;
}

/* Well `well` at row/column with `fields` fields of view fov0, fov1, ... */
static ZarrStatusCode
set_well(ZarrHCSWell* well,
         const char* row,
         const char* column,
         size_t fields,
         ZarrCompressionSettings* compression)
{
    static const char* paths[] = { "fov0", "fov1" };
    well->row_name = row;
    well->column_name = column;
    ZarrStatusCode status = ZarrHCSWell_create_image_array(well, fields);
    for (size_t i = 0; i < fields && status == ZarrStatusCode_Success; ++i) {
        status = set_field_of_view(&well->images[i], paths[i], compression);
    }
    return status;
}

static ZarrStatusCode
set_plate(ZarrHCSPlate* plate, ZarrCompressionSettings* compression)
{
    plate->path = "experiment";
    plate->name = "Drug screen, plate 1";
    ZarrStatusCode status = ZarrHCSPlate_create_row_name_array(plate, 2);
    if (status == ZarrStatusCode_Success) {
        plate->row_names[0] = "A";
        plate->row_names[1] = "B";
        status = ZarrHCSPlate_create_column_name_array(plate, 3);
    }
    if (status == ZarrStatusCode_Success) {
        plate->column_names[0] = "1";
        plate->column_names[1] = "2";
        plate->column_names[2] = "3";
        status = ZarrHCSPlate_create_acquisition_array(plate, 1);
    }
    if (status == ZarrStatusCode_Success) {
        plate->acquisitions[0] = (ZarrHCSAcquisition){
            .id = 0, .name = "first pass",
            .start_time = UINT64_C(1764000000000), .has_start_time = true,
            .end_time = UINT64_C(1764000600000), .has_end_time = true };
        status = ZarrHCSPlate_create_well_array(plate, 3);
    }
    if (status == ZarrStatusCode_Success) {
        status = set_well(&plate->wells[0], "A", "1", 2, compression);
    }
    if (status == ZarrStatusCode_Success) {
        status = set_well(&plate->wells[1], "A", "2", 1, compression);
    }
    if (status == ZarrStatusCode_Success) {
        status = set_well(&plate->wells[2], "B", "3", 1, compression);
    }
    return status;
}

static ZarrStream*
create_stream(void)
{
    ZarrCompressionSettings zstd = {
        .compressor = ZarrCompressor_Blosc1,
        .codec = ZarrCompressionCodec_BloscZstd,
        .level = 1,
        .shuffle = 1,
    };
    ZarrHCSSettings hcs = { 0 };
    ZarrStreamSettings settings = {
        .store_path = "hcs_plate.zarr",
        .version = ZarrVersion_3,
        .overwrite = true,
        .hcs_settings = &hcs,
    };
    ZarrStream* stream = NULL;
    if (ZarrHCSSettings_create_plate_array(&hcs, 1) == ZarrStatusCode_Success &&
        set_plate(&hcs.plates[0], &zstd) == ZarrStatusCode_Success) {
        stream = ZarrStream_create(&settings);
    }
    /* The stream copied what it needs. This frees the plates and all that the
     * create_*_array helpers allocated in them: wells, fields of view, their
     * array settings and dimensions, acquisitions, row and column names. */
    ZarrHCSSettings_destroy_plate_array(&hcs);
    return stream;
}

int
main(void)
{
    ZarrStream* stream = create_stream();
    if (!stream) {
        fprintf(stderr, "ZarrStream_create failed: %s\n", Zarr_get_last_error());
        return 1;
    }

    static const char* keys[FIELDS] = { "experiment/A/1/fov0",
                                        "experiment/A/1/fov1",
                                        "experiment/A/2/fov0",
                                        "experiment/B/3/fov0" };
    const size_t plane = (size_t)HEIGHT * WIDTH;
    uint16_t* stack = malloc(CHANNELS * PLANES * plane * sizeof(uint16_t));
    if (!stack) {
        ZarrStream_destroy(stream);
        return 1;
    }
    ZarrStatusCode status = ZarrStatusCode_Success;
    for (int f = 0; f < FIELDS && status == ZarrStatusCode_Success; ++f) {
        /* The whole c/z stack of one field of view in one append, c slowest. */
        for (size_t k = 0; k < CHANNELS * PLANES; ++k) {
            for (size_t i = 0; i < plane; ++i) {
                stack[k * plane + i] = (uint16_t)(100 * f + k);
            }
        }
        size_t written = 0;
        status = ZarrStream_append(stream, stack,
                                   CHANNELS * PLANES * plane * sizeof(uint16_t),
                                   &written, keys[f]);
    }
    free(stack);
    if (status != ZarrStatusCode_Success) {
        fprintf(stderr, "ZarrStream_append failed: %s\n", Zarr_get_last_error());
        ZarrStream_destroy(stream);
        return 1;
    }
    if (ZarrStream_close(stream) != ZarrStatusCode_Success) {
        fprintf(stderr, "ZarrStream_close failed: %s\n", Zarr_get_last_error());
        return 1;
    }
    printf("wrote hcs_plate.zarr\n");
    return 0;
}
