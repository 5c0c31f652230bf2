// The C settings structs built from the plain dicts acquire_zarr._plan makes
// from a StreamSettings: the one place the binding turns Python values into
// the public C types.
#pragma once

#include "acquire.zarr.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <deque>
#include <string>
#include <vector>

/// Owns a ZarrStreamSettings and everything it points to. Members live in
/// deques so that pointers into them stay valid while more are added.
class CSettings
{
  public:
    explicit CSettings(const pybind11::dict& plan);
    CSettings(const CSettings&) = delete;
    CSettings& operator=(const CSettings&) = delete;

    ZarrStreamSettings* get() { return &settings_; }

  private:
    const char* text(const pybind11::handle& value); // None: NULL
    ZarrCompressionSettings* compression(const pybind11::handle& value);
    void dimensions(const pybind11::handle& list,
                    ZarrDimensionProperties** out,
                    size_t* count);
    const size_t* order(const pybind11::handle& value); // None: NULL
    ZarrArraySettings array(const pybind11::dict& plan);
    ZarrHCSWell well(const pybind11::dict& plan);
    ZarrHCSPlate plate(const pybind11::dict& plan);
    const char** names(const pybind11::handle& list, size_t* count);

    std::deque<std::string> strings_;
    std::deque<ZarrCompressionSettings> compressions_;
    std::deque<std::vector<ZarrDimensionProperties>> dimensions_;
    std::deque<std::vector<size_t>> orders_;
    std::deque<ZarrArraySettings> image_arrays_;
    std::deque<std::vector<ZarrHCSFieldOfView>> images_;
    std::deque<std::vector<ZarrHCSWell>> wells_;
    std::deque<std::vector<ZarrHCSAcquisition>> acquisitions_;
    std::deque<std::vector<const char*>> names_;
    std::vector<ZarrArraySettings> arrays_;
    std::vector<ZarrHCSPlate> plates_;
    ZarrHCSSettings hcs_{};
    ZarrS3Settings s3_{};
    ZarrStreamSettings settings_{};
};
