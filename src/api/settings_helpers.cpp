// The C API's helpers for settings of the current API: allocation of the
// arrays of ZarrStreamSettings, ZarrArraySettings and the HCS structs, the
// array keys, and the memory estimate.
#define ACQUIRE_ZARR_NO_DISPATCH
#include "acquire.zarr.h"

#include "../stream/memory.hh"
#include "../stream/settings.hh"
#include "boundary.hh"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

using zarr::api::guarded;
using zarr::api::record;

namespace {

/// `count` zero-filled `T`s into `*out` (after freeing `free_first`), or the
/// status that says why not.
template<typename T>
ZarrStatusCode
allocate(const char* function, const void* owner, size_t count, T** out)
{
    if (owner == nullptr) {
        return record(ZarrStatusCode_InvalidArgument, zarr::cat(function, ": the struct is NULL"));
    }
    if (count == 0) {
        return record(ZarrStatusCode_InvalidArgument, zarr::cat(function, ": the count is 0"));
    }
    *out = static_cast<T*>(std::calloc(count, sizeof(T)));
    if (*out == nullptr) {
        return record(ZarrStatusCode_OutOfMemory,
                      zarr::cat(function, ": cannot allocate ", count, " entries"));
    }
    return ZarrStatusCode_Success;
}

/// The array settings that ZarrHCSWell_create_image_array allocated: the
/// only ones ZarrHCSWell_destroy_image_array frees (a caller may point a
/// field of view at settings of its own).
std::mutex g_mutex;
std::set<const ZarrArraySettings*> g_fov_settings;

void
free_fov_settings(ZarrArraySettings* settings)
{
    {
        std::lock_guard lock(g_mutex);
        if (g_fov_settings.erase(settings) == 0) {
            return;
        }
    }
    ZarrArraySettings_destroy_dimension_array(settings);
    std::free(settings);
}

} // namespace

extern "C" {

ZarrStatusCode
ZarrStreamSettings_create_arrays(ZarrStreamSettings* settings, size_t array_count)
{
    ZarrArraySettings* arrays = nullptr;
    const ZarrStatusCode code =
      allocate("ZarrStreamSettings_create_arrays", settings, array_count, &arrays);
    if (code == ZarrStatusCode_Success) {
        ZarrStreamSettings_destroy_arrays(settings);
        settings->arrays = arrays;
        settings->array_count = array_count;
    }
    return code;
}

void
ZarrStreamSettings_destroy_arrays(ZarrStreamSettings* settings)
{
    if (settings == nullptr) {
        return;
    }
    for (size_t i = 0; settings->arrays != nullptr && i < settings->array_count; ++i) {
        ZarrArraySettings_destroy_dimension_array(&settings->arrays[i]);
    }
    std::free(settings->arrays);
    settings->arrays = nullptr;
    settings->array_count = 0;
}

ZarrStatusCode
ZarrArraySettings_create_dimension_array(ZarrArraySettings* settings, size_t dimension_count)
{
    ZarrDimensionProperties* dims = nullptr;
    const ZarrStatusCode code = allocate("ZarrArraySettings_create_dimension_array", settings,
                                         dimension_count, &dims);
    if (code == ZarrStatusCode_Success) {
        ZarrArraySettings_destroy_dimension_array(settings);
        settings->dimensions = dims;
        settings->dimension_count = dimension_count;
    }
    return code;
}

void
ZarrArraySettings_destroy_dimension_array(ZarrArraySettings* settings)
{
    if (settings == nullptr) {
        return;
    }
    std::free(settings->dimensions);
    settings->dimensions = nullptr;
    settings->dimension_count = 0;
}

ZarrStatusCode
ZarrHCSWell_create_image_array(ZarrHCSWell* well, size_t image_count)
{
    ZarrHCSFieldOfView* images = nullptr;
    ZarrStatusCode code = allocate("ZarrHCSWell_create_image_array", well, image_count, &images);
    if (code != ZarrStatusCode_Success) {
        return code;
    }
    // Each field of view gets zeroed array settings, so that a caller can
    // fill them (and their dimension array) in place.
    for (size_t i = 0; i < image_count; ++i) {
        images[i].array_settings =
          static_cast<ZarrArraySettings*>(std::calloc(1, sizeof(ZarrArraySettings)));
        std::lock_guard lock(g_mutex);
        if (images[i].array_settings == nullptr) {
            code = record(ZarrStatusCode_OutOfMemory,
                          "ZarrHCSWell_create_image_array: cannot allocate array settings");
            break;
        }
        g_fov_settings.insert(images[i].array_settings);
    }
    if (code != ZarrStatusCode_Success) {
        for (size_t i = 0; i < image_count; ++i) {
            free_fov_settings(images[i].array_settings);
        }
        std::free(images);
        return code;
    }
    ZarrHCSWell_destroy_image_array(well);
    well->images = images;
    well->image_count = image_count;
    return code;
}

void
ZarrHCSWell_destroy_image_array(ZarrHCSWell* well)
{
    if (well == nullptr) {
        return;
    }
    for (size_t i = 0; well->images != nullptr && i < well->image_count; ++i) {
        free_fov_settings(well->images[i].array_settings);
    }
    std::free(well->images);
    well->images = nullptr;
    well->image_count = 0;
}

ZarrStatusCode
ZarrHCSPlate_create_well_array(ZarrHCSPlate* plate, size_t well_count)
{
    ZarrHCSWell* wells = nullptr;
    const ZarrStatusCode code =
      allocate("ZarrHCSPlate_create_well_array", plate, well_count, &wells);
    if (code == ZarrStatusCode_Success) {
        ZarrHCSPlate_destroy_well_array(plate);
        plate->wells = wells;
        plate->well_count = well_count;
    }
    return code;
}

void
ZarrHCSPlate_destroy_well_array(ZarrHCSPlate* plate)
{
    if (plate == nullptr) {
        return;
    }
    for (size_t i = 0; plate->wells != nullptr && i < plate->well_count; ++i) {
        ZarrHCSWell_destroy_image_array(&plate->wells[i]);
    }
    std::free(plate->wells);
    plate->wells = nullptr;
    plate->well_count = 0;
}

ZarrStatusCode
ZarrHCSPlate_create_acquisition_array(ZarrHCSPlate* plate, size_t acquisition_count)
{
    ZarrHCSAcquisition* acquisitions = nullptr;
    const ZarrStatusCode code = allocate("ZarrHCSPlate_create_acquisition_array", plate,
                                         acquisition_count, &acquisitions);
    if (code == ZarrStatusCode_Success) {
        ZarrHCSPlate_destroy_acquisition_array(plate);
        plate->acquisitions = acquisitions;
        plate->acquisition_count = acquisition_count;
    }
    return code;
}

void
ZarrHCSPlate_destroy_acquisition_array(ZarrHCSPlate* plate)
{
    if (plate == nullptr) {
        return;
    }
    std::free(plate->acquisitions);
    plate->acquisitions = nullptr;
    plate->acquisition_count = 0;
}

ZarrStatusCode
ZarrHCSPlate_create_row_name_array(ZarrHCSPlate* plate, size_t row_count)
{
    const char** names = nullptr;
    const ZarrStatusCode code =
      allocate("ZarrHCSPlate_create_row_name_array", plate, row_count, &names);
    if (code == ZarrStatusCode_Success) {
        ZarrHCSPlate_destroy_row_name_array(plate);
        plate->row_names = names;
        plate->row_count = row_count;
    }
    return code;
}

void
ZarrHCSPlate_destroy_row_name_array(ZarrHCSPlate* plate)
{
    if (plate == nullptr) {
        return;
    }
    std::free(static_cast<void*>(plate->row_names));
    plate->row_names = nullptr;
    plate->row_count = 0;
}

ZarrStatusCode
ZarrHCSPlate_create_column_name_array(ZarrHCSPlate* plate, size_t column_count)
{
    const char** names = nullptr;
    const ZarrStatusCode code =
      allocate("ZarrHCSPlate_create_column_name_array", plate, column_count, &names);
    if (code == ZarrStatusCode_Success) {
        ZarrHCSPlate_destroy_column_name_array(plate);
        plate->column_names = names;
        plate->column_count = column_count;
    }
    return code;
}

void
ZarrHCSPlate_destroy_column_name_array(ZarrHCSPlate* plate)
{
    if (plate == nullptr) {
        return;
    }
    std::free(static_cast<void*>(plate->column_names));
    plate->column_names = nullptr;
    plate->column_count = 0;
}

ZarrStatusCode
ZarrHCSSettings_create_plate_array(ZarrHCSSettings* settings, size_t plate_count)
{
    ZarrHCSPlate* plates = nullptr;
    const ZarrStatusCode code =
      allocate("ZarrHCSSettings_create_plate_array", settings, plate_count, &plates);
    if (code == ZarrStatusCode_Success) {
        ZarrHCSSettings_destroy_plate_array(settings);
        settings->plates = plates;
        settings->plate_count = plate_count;
    }
    return code;
}

void
ZarrHCSSettings_destroy_plate_array(ZarrHCSSettings* settings)
{
    if (settings == nullptr) {
        return;
    }
    for (size_t i = 0; settings->plates != nullptr && i < settings->plate_count; ++i) {
        ZarrHCSPlate* plate = &settings->plates[i];
        ZarrHCSPlate_destroy_well_array(plate);
        ZarrHCSPlate_destroy_acquisition_array(plate);
        ZarrHCSPlate_destroy_row_name_array(plate);
        ZarrHCSPlate_destroy_column_name_array(plate);
    }
    std::free(settings->plates);
    settings->plates = nullptr;
    settings->plate_count = 0;
}

size_t
ZarrStreamSettings_get_array_count(const ZarrStreamSettings* settings)
{
    if (settings == nullptr) {
        return 0;
    }
    if (settings->arrays == nullptr && settings->array_count == 0 &&
        settings->hcs_settings == nullptr) {
        return 1;
    }
    size_t count = settings->arrays != nullptr ? settings->array_count : 0;
    const ZarrHCSSettings* hcs = settings->hcs_settings;
    for (size_t p = 0; hcs != nullptr && hcs->plates != nullptr && p < hcs->plate_count; ++p) {
        const ZarrHCSPlate& plate = hcs->plates[p];
        for (size_t w = 0; plate.wells != nullptr && w < plate.well_count; ++w) {
            count += plate.wells[w].images != nullptr ? plate.wells[w].image_count : 0;
        }
    }
    return count;
}

ZarrStatusCode
ZarrStreamSettings_get_array_key(const ZarrStreamSettings* settings, size_t index, char** key)
{
    if (settings == nullptr || key == nullptr) {
        return record(ZarrStatusCode_InvalidArgument,
                      zarr::cat("ZarrStreamSettings_get_array_key: ",
                                settings == nullptr ? "settings" : "key", " is NULL"));
    }
    return guarded("ZarrStreamSettings_get_array_key", [&] {
        const std::vector<std::string> keys = zarr::array_keys(*settings);
        if (index >= keys.size()) {
            zarr::fail(ZarrStatusCode_InvalidIndex, "ZarrStreamSettings_get_array_key: index ",
                       index, " is out of range: the settings describe ", keys.size(),
                       " array(s)");
        }
        char* copy = static_cast<char*>(std::malloc(keys[index].size() + 1));
        if (copy == nullptr) {
            throw std::bad_alloc();
        }
        std::memcpy(copy, keys[index].c_str(), keys[index].size() + 1);
        *key = copy;
    });
}

ZarrStatusCode
ZarrStreamSettings_estimate_max_memory_usage(const ZarrStreamSettings* settings, size_t* usage)
{
    if (settings == nullptr || usage == nullptr) {
        return record(ZarrStatusCode_InvalidArgument,
                      zarr::cat("ZarrStreamSettings_estimate_max_memory_usage: ",
                                settings == nullptr ? "settings" : "usage", " is NULL"));
    }
    return guarded("ZarrStreamSettings_estimate_max_memory_usage", [&] {
        *usage = static_cast<size_t>(zarr::estimate_max_memory(zarr::plan_stream(settings)));
    });
}

} // extern "C"
