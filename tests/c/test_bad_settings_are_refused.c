/* ZarrStream_create refuses bad settings with NULL and a last-error text
 * that names the field and the value. */
#include "acquire.zarr.h"
#include "check.h"

#include <string.h>

static ZarrDimensionProperties dims[3];
static ZarrCompressionSettings compression;
static ZarrStreamSettings settings;

static void
reset(void)
{
    ZarrDimensionProperties good[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0, .chunk_size_px = 2 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 8, .chunk_size_px = 4 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 8, .chunk_size_px = 4 },
    };
    memcpy(dims, good, sizeof(dims));
    memset(&compression, 0, sizeof(compression));
    memset(&settings, 0, sizeof(settings));
    settings.store_path = "bad_settings.zarr";
    settings.dimensions = dims;
    settings.dimension_count = 3;
    settings.data_type = ZarrDataType_uint16;
    settings.version = ZarrVersion_3;
    settings.overwrite = true;
}

static void
expect_refused(const char* a, const char* b)
{
    ZarrStream* stream = ZarrStream_create(&settings);
    const char* error = Zarr_get_last_error();
    if (stream != NULL || strstr(error, a) == NULL || (b && strstr(error, b) == NULL)) {
        fprintf(stderr, "expected an error naming '%s' / '%s', got %s: '%s'\n", a,
                b ? b : "", stream ? "a stream" : "NULL", error);
        exit(1);
    }
    reset();
}

int
main(void)
{
    Zarr_set_log_level(ZarrLogLevel_None);
    reset();
    ZarrStream* ok = ZarrStream_create(&settings);
    CHECK(ok != NULL);
    CHECK(ZarrStream_close(ok) == ZarrStatusCode_Success);

    settings.store_path = NULL;            expect_refused("store_path is NULL", NULL);
    settings.store_path = "";              expect_refused("store_path", "empty");
    settings.dimension_count = 2;          expect_refused("dimension_count is 2", NULL);
    settings.dimensions = NULL;            expect_refused("dimensions is NULL", NULL);
    dims[1].name = NULL;                   expect_refused("dimensions[1].name is NULL", NULL);
    dims[2].name = "";                     expect_refused("dimensions[2].name is ''", NULL);
    dims[2].name = "t";                    expect_refused("dimensions[2].name 't'", "unique");
    dims[0].chunk_size_px = 0;             expect_refused("dimensions[0].chunk_size_px is 0", NULL);
    dims[1].array_size_px = 0;             expect_refused("dimensions[1].array_size_px is 0", NULL);
    dims[1].type = (ZarrDimensionType)7;   expect_refused("dimensions[1].type is 7", NULL);
    settings.data_type = ZarrDataTypeCount; expect_refused("data_type is 10", NULL);
    settings.version = (ZarrVersion)7;     expect_refused("version is 7", NULL);
    settings.downsampling_method = (ZarrDownsamplingMethod)9;
    expect_refused("downsampling_method is 9", NULL);

    settings.compression_settings = &compression;
    compression.compressor = ZarrCompressor_Blosc1;
    expect_refused("compression_settings.codec is None", NULL);
    settings.compression_settings = &compression;
    compression.codec = ZarrCompressionCodec_BloscLZ4;
    expect_refused("compression_settings.compressor is None", "codec is 1");
    settings.compression_settings = &compression;
    compression.compressor = ZarrCompressor_Blosc1;
    compression.codec = ZarrCompressionCodec_BloscZstd;
    compression.level = 12;
    expect_refused("compression_settings.level is 12", NULL);
    settings.compression_settings = &compression;
    compression.compressor = ZarrCompressor_Blosc1;
    compression.codec = ZarrCompressionCodec_BloscZstd;
    compression.shuffle = 3;
    expect_refused("compression_settings.shuffle is 3", NULL);
    settings.compression_settings = &compression;
    compression.compressor = (ZarrCompressor)5;
    expect_refused("compression_settings.compressor is 5", NULL);

    settings.output_key = "a/../b";        expect_refused("output_key 'a/../b'", "'..'");
    settings.output_key = "__private";     expect_refused("output_key '__private'", "'__'");
    settings.custom_metadata = "[1,2]";    expect_refused("custom_metadata", "not a JSON object");

    dims[1].array_size_px = 1u << 20;
    dims[2].array_size_px = 1u << 20;
    dims[1].chunk_size_px = 1;
    dims[2].chunk_size_px = 1;
    expect_refused("chunk_size_px", "open at once");

    settings.max_threads = 100000;        expect_refused("max_threads is 100000", NULL);

    /* Strings that go into the metadata must be UTF-8; the message shows
     * the bad byte escaped, so the text itself stays valid. */
    dims[0].name = "t\xff";               expect_refused("dimensions[0].name is 't\\xFF'", "UTF-8");
    dims[2].unit = "\xc3(";               expect_refused("dimensions[2].unit", "UTF-8");
    settings.output_key = "ok/\xe2\x82";   expect_refused("output_key", "UTF-8");

    /* A refusal happens before the store is touched: with overwrite, what
     * is there survives. */
    {
        reset();
        ZarrStream* first = ZarrStream_create(&settings);
        CHECK(first != NULL);
        unsigned short frame[64] = { 1 };
        size_t written = 0;
        CHECK(ZarrStream_append(first, frame, sizeof(frame), &written) == ZarrStatusCode_Success);
        CHECK(ZarrStream_close(first) == ZarrStatusCode_Success);
        dims[0].name = "t\xff";
        CHECK(ZarrStream_create(&settings) == NULL);
        CHECK(Zarr_get_last_status() == ZarrStatusCode_InvalidSettings);
        FILE* f = fopen("bad_settings.zarr/0/zarr.json", "r");
        CHECK(f != NULL);
        fclose(f);
        reset();
    }

    /* Enum parameters outside their range (a C caller may pass any int). */
    {
        int level = 6316031;
        ZarrLogLevel bad_level;
        memcpy(&bad_level, &level, sizeof(level));
        CHECK(Zarr_set_log_level(bad_level) == ZarrStatusCode_InvalidArgument);
        CHECK(Zarr_get_last_status() == ZarrStatusCode_InvalidArgument);
        CHECK(Zarr_get_log_level() == ZarrLogLevel_None);
        int code = -5;
        ZarrStatusCode bad_code;
        memcpy(&bad_code, &code, sizeof(code));
        CHECK(strcmp(Zarr_get_status_message(bad_code), "Unknown status code") == 0);
    }

    printf("bad settings: ok\n");
    return 0;
}
