/* An HCS plate built with the allocation helpers: every field of view is an
 * OME image group at plate/row/column/fov, the plate and well groups carry
 * NGFF plate and well metadata (0.5 under "ome" on v3, 0.4 on v2), also for
 * a well whose field of view never gets a frame. The helpers free what they
 * allocated (ASan checks). */
#include "acquire.zarr.h"
#include "check.h"

#include <string.h>

#include "read_file.h"

static void
fill_fov(ZarrHCSFieldOfView* fov, const char* path, int acquisition)
{
    fov->path = path;
    if (acquisition >= 0) {
        fov->acquisition_id = (uint32_t)acquisition;
        fov->has_acquisition_id = true;
    }
    ZarrArraySettings* a = fov->array_settings; /* allocated by the helper */
    CHECK(a != NULL);
    CHECK(ZarrArraySettings_create_dimension_array(a, 3) == ZarrStatusCode_Success);
    a->dimensions[0] = (ZarrDimensionProperties){ .name = "t", .type = ZarrDimensionType_Time,
                                                  .chunk_size_px = 1 };
    a->dimensions[1] = (ZarrDimensionProperties){ .name = "y", .type = ZarrDimensionType_Space,
                                                  .array_size_px = 8, .chunk_size_px = 8 };
    a->dimensions[2] = (ZarrDimensionProperties){ .name = "x", .type = ZarrDimensionType_Space,
                                                  .array_size_px = 8, .chunk_size_px = 8 };
}

static void
run(ZarrVersion version, const char* store)
{
    ZarrHCSSettings hcs = { 0 };
    CHECK(ZarrHCSSettings_create_plate_array(&hcs, 1) == ZarrStatusCode_Success);
    ZarrHCSPlate* plate = &hcs.plates[0];
    plate->path = "plate";
    plate->name = "test plate";
    CHECK(ZarrHCSPlate_create_row_name_array(plate, 2) == ZarrStatusCode_Success);
    plate->row_names[0] = "A";
    plate->row_names[1] = "B";
    CHECK(ZarrHCSPlate_create_column_name_array(plate, 3) == ZarrStatusCode_Success);
    plate->column_names[0] = "1";
    plate->column_names[1] = "2";
    plate->column_names[2] = "3";
    CHECK(ZarrHCSPlate_create_acquisition_array(plate, 1) == ZarrStatusCode_Success);
    plate->acquisitions[0] = (ZarrHCSAcquisition){ .id = 4, .name = "morning",
                                                   .start_time = 100, .has_start_time = true };
    CHECK(ZarrHCSPlate_create_well_array(plate, 2) == ZarrStatusCode_Success);
    plate->wells[0].row_name = "A";
    plate->wells[0].column_name = "1";
    CHECK(ZarrHCSWell_create_image_array(&plate->wells[0], 2) == ZarrStatusCode_Success);
    fill_fov(&plate->wells[0].images[0], "0", 4);
    fill_fov(&plate->wells[0].images[1], "1", 4);
    plate->wells[1].row_name = "B";
    plate->wells[1].column_name = "3";
    CHECK(ZarrHCSWell_create_image_array(&plate->wells[1], 1) == ZarrStatusCode_Success);
    fill_fov(&plate->wells[1].images[0], "0", -1);

    ZarrStreamSettings s = { .store_path = store, .version = version, .overwrite = true,
                             .hcs_settings = &hcs };
    CHECK(ZarrStreamSettings_get_array_count(&s) == 3);
    char* key = NULL;
    CHECK(ZarrStreamSettings_get_array_key(&s, 2, &key) == ZarrStatusCode_Success);
    CHECK(strcmp(key, "plate/B/3/0") == 0);
    free(key);

    ZarrStream* stream = ZarrStream_create(&s);
    CHECK(stream != NULL);
    ZarrHCSSettings_destroy_plate_array(&hcs);
    CHECK(hcs.plates == NULL && hcs.plate_count == 0);

    unsigned char frame[64];
    memset(frame, 3, sizeof frame);
    size_t out = 0;
    CHECK(ZarrStream_append(stream, frame, sizeof frame, &out, "plate/A/1/0") ==
          ZarrStatusCode_Success);
    CHECK(ZarrStream_append(stream, frame, sizeof frame, &out, "plate/A/1/1") ==
          ZarrStatusCode_Success);
    /* plate/B/3/0 gets no frame. */
    CHECK(ZarrStream_close(stream) == ZarrStatusCode_Success);

    char path[256];
    const int v3 = version == ZarrVersion_3;
    snprintf(path, sizeof path, "%s/plate/%s", store, v3 ? "zarr.json" : ".zattrs");
    CHECK(file_contains(path, "\"plate\""));
    CHECK(file_contains(path, "\"name\": \"test plate\""));
    CHECK(file_contains(path, "\"path\": \"B/3\""));
    CHECK(file_contains(path, "\"rowIndex\": 1"));
    CHECK(file_contains(path, "\"columnIndex\": 2"));
    CHECK(file_contains(path, "\"maximumfieldcount\": 2"));
    CHECK(file_contains(path, "\"field_count\": 2"));
    CHECK(file_contains(path, "\"starttime\": 100"));
    CHECK(file_contains(path, v3 ? "\"version\": \"0.5\"" : "\"version\": \"0.4\""));
    snprintf(path, sizeof path, "%s/plate/B/3/%s", store, v3 ? "zarr.json" : ".zattrs");
    CHECK(file_contains(path, "\"well\""));
    CHECK(file_contains(path, "\"path\": \"0\""));
    snprintf(path, sizeof path, "%s/plate/A/1/%s", store, v3 ? "zarr.json" : ".zattrs");
    CHECK(file_contains(path, "\"acquisition\": 4"));
    snprintf(path, sizeof path, "%s/plate/B/3/0/%s", store, v3 ? "zarr.json" : ".zattrs");
    CHECK(file_contains(path, "\"multiscales\""));
    snprintf(path, sizeof path, "%s/plate/B/3/0/0/%s", store, v3 ? "zarr.json" : ".zarray");
    CHECK(file_contains(path, "\"shape\""));
}

int
main(void)
{
    run(ZarrVersion_3, "plate_v3.zarr");
    run(ZarrVersion_2, "plate_v2.zarr");
    return 0;
}
