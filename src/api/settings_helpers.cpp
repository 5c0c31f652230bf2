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

/// Replaces `owner`'s array `items` of `size` entries by `count` zeroed
/// ones, after `destroy` freed the old ones; on failure leaves it as it was.
template<typename Owner, typename T>
ZarrStatusCode
replace_array(const char* function,
              Owner* owner,
              size_t count,
              T* Owner::*items,
              size_t Owner::*size,
              void (*destroy)(Owner*))
{
    T* fresh = nullptr;
    const ZarrStatusCode code = allocate(function, owner, count, &fresh);
    if (code == ZarrStatusCode_Success) {
        destroy(owner);
        owner->*items = fresh;
        owner->*size = count;
    }
    return code;
}

/// Frees `owner`'s array `items` (after `each` freed what every entry owns)
/// and sets it to NULL and its `size` to 0. NULL-safe.
template<typename Owner, typename T>
void
free_array(Owner* owner, T* Owner::*items, size_t Owner::*size, void (*each)(T*) = nullptr)
{
    if (owner == nullptr) {
        return;
    }
    for (size_t i = 0; each != nullptr && owner->*items != nullptr && i < owner->*size; ++i) {
        each(&(owner->*items)[i]);
    }
    std::free(const_cast<void*>(static_cast<const void*>(owner->*items)));
    owner->*items = nullptr;
    owner->*size = 0;
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
    return replace_array("ZarrStreamSettings_create_arrays", settings, array_count,
                         &ZarrStreamSettings::arrays, &ZarrStreamSettings::array_count,
                         &ZarrStreamSettings_destroy_arrays);
}

void
ZarrStreamSettings_destroy_arrays(ZarrStreamSettings* settings)
{
    free_array(settings, &ZarrStreamSettings::arrays, &ZarrStreamSettings::array_count,
               &ZarrArraySettings_destroy_dimension_array);
}

ZarrStatusCode
ZarrArraySettings_create_dimension_array(ZarrArraySettings* settings, size_t dimension_count)
{
    return replace_array("ZarrArraySettings_create_dimension_array", settings, dimension_count,
                         &ZarrArraySettings::dimensions, &ZarrArraySettings::dimension_count,
                         &ZarrArraySettings_destroy_dimension_array);
}

void
ZarrArraySettings_destroy_dimension_array(ZarrArraySettings* settings)
{
    free_array(settings, &ZarrArraySettings::dimensions, &ZarrArraySettings::dimension_count);
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
    free_array(well, &ZarrHCSWell::images, &ZarrHCSWell::image_count,
               +[](ZarrHCSFieldOfView* fov) { free_fov_settings(fov->array_settings); });
}

ZarrStatusCode
ZarrHCSPlate_create_well_array(ZarrHCSPlate* plate, size_t well_count)
{
    return replace_array("ZarrHCSPlate_create_well_array", plate, well_count,
                         &ZarrHCSPlate::wells, &ZarrHCSPlate::well_count,
                         &ZarrHCSPlate_destroy_well_array);
}

void
ZarrHCSPlate_destroy_well_array(ZarrHCSPlate* plate)
{
    free_array(plate, &ZarrHCSPlate::wells, &ZarrHCSPlate::well_count,
               &ZarrHCSWell_destroy_image_array);
}

ZarrStatusCode
ZarrHCSPlate_create_acquisition_array(ZarrHCSPlate* plate, size_t acquisition_count)
{
    return replace_array("ZarrHCSPlate_create_acquisition_array", plate, acquisition_count,
                         &ZarrHCSPlate::acquisitions, &ZarrHCSPlate::acquisition_count,
                         &ZarrHCSPlate_destroy_acquisition_array);
}

void
ZarrHCSPlate_destroy_acquisition_array(ZarrHCSPlate* plate)
{
    free_array(plate, &ZarrHCSPlate::acquisitions, &ZarrHCSPlate::acquisition_count);
}

ZarrStatusCode
ZarrHCSPlate_create_row_name_array(ZarrHCSPlate* plate, size_t row_count)
{
    return replace_array("ZarrHCSPlate_create_row_name_array", plate, row_count,
                         &ZarrHCSPlate::row_names, &ZarrHCSPlate::row_count,
                         &ZarrHCSPlate_destroy_row_name_array);
}

void
ZarrHCSPlate_destroy_row_name_array(ZarrHCSPlate* plate)
{
    free_array(plate, &ZarrHCSPlate::row_names, &ZarrHCSPlate::row_count);
}

ZarrStatusCode
ZarrHCSPlate_create_column_name_array(ZarrHCSPlate* plate, size_t column_count)
{
    return replace_array("ZarrHCSPlate_create_column_name_array", plate, column_count,
                         &ZarrHCSPlate::column_names, &ZarrHCSPlate::column_count,
                         &ZarrHCSPlate_destroy_column_name_array);
}

void
ZarrHCSPlate_destroy_column_name_array(ZarrHCSPlate* plate)
{
    free_array(plate, &ZarrHCSPlate::column_names, &ZarrHCSPlate::column_count);
}

ZarrStatusCode
ZarrHCSSettings_create_plate_array(ZarrHCSSettings* settings, size_t plate_count)
{
    return replace_array("ZarrHCSSettings_create_plate_array", settings, plate_count,
                         &ZarrHCSSettings::plates, &ZarrHCSSettings::plate_count,
                         &ZarrHCSSettings_destroy_plate_array);
}

void
ZarrHCSSettings_destroy_plate_array(ZarrHCSSettings* settings)
{
    free_array(settings, &ZarrHCSSettings::plates, &ZarrHCSSettings::plate_count,
               +[](ZarrHCSPlate* plate) {
                   ZarrHCSPlate_destroy_well_array(plate);
                   ZarrHCSPlate_destroy_acquisition_array(plate);
                   ZarrHCSPlate_destroy_row_name_array(plate);
                   ZarrHCSPlate_destroy_column_name_array(plate);
               });
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
