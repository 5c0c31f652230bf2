/* Settings of the current API that make no store: each refusal is
 * InvalidSettings and names the fields and values at fault. */
#include "acquire.zarr.h"
#include "check.h"

#include <string.h>

static ZarrDimensionProperties dims[3] = {
    { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0, .chunk_size_px = 1 },
    { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
    { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 4, .chunk_size_px = 4 },
};

static void
refused(ZarrStreamSettings* s, const char* piece, const char* other_piece)
{
    CHECK(ZarrStream_create(s) == NULL);
    CHECK(Zarr_get_last_status() == ZarrStatusCode_InvalidSettings);
    if (strstr(Zarr_get_last_error(), piece) == NULL ||
        (other_piece != NULL && strstr(Zarr_get_last_error(), other_piece) == NULL)) {
        fprintf(stderr, "message '%s' lacks '%s' / '%s'\n", Zarr_get_last_error(), piece,
                other_piece ? other_piece : "");
        exit(1);
    }
}

static ZarrArraySettings
array_at(const char* key)
{
    ZarrArraySettings a = { .output_key = key, .dimensions = dims, .dimension_count = 3 };
    return a;
}

int
main(void)
{
    ZarrArraySettings arrays[2] = { array_at("a"), array_at("/a/") };
    ZarrStreamSettings s = { .store_path = "refused.zarr", .arrays = arrays, .array_count = 2,
                             .overwrite = true };
    refused(&s, "arrays[0].output_key 'a'", "arrays[1].output_key 'a'");

    arrays[1] = array_at("a/b");
    refused(&s, "arrays[1].output_key 'a/b'", "inside");

    arrays[0] = array_at(NULL); /* the root: nothing may sit beside it */
    refused(&s, "arrays[1].output_key 'a/b'", "the root");

    arrays[0] = array_at("p");
    arrays[1].is_ngff = true;
    s.dimensions = dims;
    s.dimension_count = 3;
    refused(&s, "seed-era", "dimensions");
    s.dimensions = NULL;
    s.dimension_count = 0;
    s.output_key = "x";
    refused(&s, "seed-era", "output_key");
    s.output_key = NULL;

    /* Plates. */
    ZarrArraySettings fov_array = array_at(NULL);
    ZarrHCSFieldOfView fov = { .path = "0", .array_settings = &fov_array };
    ZarrHCSWell well = { .row_name = "A", .column_name = "1", .images = &fov, .image_count = 1 };
    const char* rows[] = { "A", "B" };
    const char* columns[] = { "1" };
    ZarrHCSPlate plate = { .path = "plate", .row_names = rows, .row_count = 2,
                           .column_names = columns, .column_count = 1, .wells = &well,
                           .well_count = 1 };
    ZarrHCSSettings hcs = { .plates = &plate, .plate_count = 1 };
    ZarrStreamSettings p = { .store_path = "refused_plate.zarr", .hcs_settings = &hcs,
                             .overwrite = true };

    fov_array.output_key = "elsewhere";
    refused(&p, "images[0].array_settings.output_key is 'elsewhere'", NULL);
    fov_array.output_key = NULL;

    rows[1] = "B-2";
    refused(&p, "row_names[1] is 'B-2'", "letters and digits");
    rows[1] = "A";
    refused(&p, "row_names[1] 'A'", "twice");
    rows[1] = "B";

    well.column_name = "7";
    refused(&p, "wells[0].column_name is '7'", "column_names");
    well.column_name = "1";

    fov.acquisition_id = 3;
    fov.has_acquisition_id = true;
    refused(&p, "acquisition_id is 3", NULL);
    fov.has_acquisition_id = false;

    plate.path = "";
    refused(&p, "hcs_settings.plates[0].path", NULL);
    plate.path = "plate";

    /* A flat array where the plate is. */
    ZarrArraySettings flat = array_at("plate/A");
    p.arrays = &flat;
    p.array_count = 1;
    refused(&p, "arrays[0].output_key 'plate/A'", "plate/A/1/0");
    p.arrays = NULL;
    p.array_count = 0;

    /* And what is left is accepted. */
    ZarrStream* stream = ZarrStream_create(&p);
    CHECK(stream != NULL);
    CHECK(ZarrStream_close(stream) == ZarrStatusCode_Success);
    return 0;
}
