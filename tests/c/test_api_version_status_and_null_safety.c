/* Version, status messages, log level, dimension arrays, NULL safety. */
#include "acquire.zarr.h"
#include "check.h"

#include <string.h>

int
main(void)
{
    const char* version = Zarr_get_api_version();
    CHECK(version != NULL && strcmp(version, "0.2.0") == 0);

    for (int code = 0; code < ZarrStatusCodeCount; ++code) {
        const char* text = Zarr_get_status_message((ZarrStatusCode)code);
        CHECK(text != NULL && strlen(text) > 0);
        CHECK(strcmp(text, "Unknown status code") != 0);
    }
    CHECK(strcmp(Zarr_get_status_message(ZarrStatusCode_Success), "Success") == 0);
    CHECK(strcmp(Zarr_get_status_message((ZarrStatusCode)1234), "Unknown status code") == 0);
    CHECK(strcmp(Zarr_get_status_message(ZarrStatusCodeCount), "Unknown status code") == 0);

    CHECK(Zarr_get_log_level() == ZarrLogLevel_Info);
    CHECK(Zarr_set_log_level(ZarrLogLevel_Debug) == ZarrStatusCode_Success);
    CHECK(Zarr_get_log_level() == ZarrLogLevel_Debug);
    CHECK(Zarr_set_log_level(ZarrLogLevelCount) == ZarrStatusCode_InvalidArgument);
    CHECK(strstr(Zarr_get_last_error(), "log level") != NULL);
    CHECK(Zarr_get_log_level() == ZarrLogLevel_Debug);
    CHECK(Zarr_set_log_level(ZarrLogLevel_None) == ZarrStatusCode_Success);

    ZarrStreamSettings settings;
    memset(&settings, 0, sizeof(settings));
    CHECK(ZarrStreamSettings_create_dimension_array(NULL, 3) ==
          ZarrStatusCode_InvalidArgument);
    CHECK(ZarrStreamSettings_create_dimension_array(&settings, 0) ==
          ZarrStatusCode_InvalidArgument);
    CHECK(ZarrStreamSettings_create_dimension_array(&settings, 3) ==
          ZarrStatusCode_Success);
    CHECK(settings.dimensions != NULL && settings.dimension_count == 3);
    for (size_t i = 0; i < 3; ++i) { /* zero-filled */
        CHECK(settings.dimensions[i].name == NULL);
        CHECK(settings.dimensions[i].array_size_px == 0);
        CHECK(settings.dimensions[i].scale == 0.0);
    }
    /* A second call replaces (and frees) the first array. */
    CHECK(ZarrStreamSettings_create_dimension_array(&settings, 5) ==
          ZarrStatusCode_Success);
    CHECK(settings.dimension_count == 5);
    ZarrStreamSettings_destroy_dimension_array(&settings);
    CHECK(settings.dimensions == NULL && settings.dimension_count == 0);
    ZarrStreamSettings_destroy_dimension_array(&settings);
    ZarrStreamSettings_destroy_dimension_array(NULL);

    ZarrStream_destroy(NULL);
    CHECK(ZarrStream_close(NULL) == ZarrStatusCode_Success);
    size_t out = 99;
    CHECK(ZarrStream_append(NULL, "x", 1, &out) == ZarrStatusCode_InvalidArgument);
    CHECK(out == 0);
    CHECK(ZarrStream_write_custom_metadata(NULL, "{}", false) ==
          ZarrStatusCode_InvalidArgument);
    CHECK(ZarrStream_create(NULL) == NULL);
    CHECK(strstr(Zarr_get_last_error(), "settings is NULL") != NULL);
    printf("api basics: ok\n");
    return 0;
}
