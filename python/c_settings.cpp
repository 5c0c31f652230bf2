#include "c_settings.hh"

namespace py = pybind11;

namespace {

template<typename T>
T
number(const py::dict& plan, const char* key)
{
    return plan[key].cast<T>();
}

// An empty list is NULL, as the C API expects for "none".
template<typename T>
T*
data_or_null(std::vector<T>& items)
{
    return items.empty() ? nullptr : items.data();
}

} // namespace

CSettings::CSettings(const py::dict& plan)
{
    settings_.store_path = text(plan["store_path"]);
    if (!plan["s3"].is_none()) {
        const py::dict s3 = plan["s3"];
        s3_.endpoint = text(s3["endpoint"]);
        s3_.bucket_name = text(s3["bucket_name"]);
        s3_.region = text(s3["region"]);
        settings_.s3_settings = &s3_;
        settings_.s3_addressing_style = s3["virtual_host"].cast<bool>()
                                          ? ZarrS3AddressingStyle_VirtualHost
                                          : ZarrS3AddressingStyle_Path;
    }
    settings_.compression_settings = compression(plan["compression"]);
    dimensions(plan["dimensions"], &settings_.dimensions,
               &settings_.dimension_count);
    settings_.multiscale = number<bool>(plan, "multiscale");
    settings_.data_type =
      static_cast<ZarrDataType>(number<int>(plan, "data_type"));
    settings_.version = static_cast<ZarrVersion>(number<int>(plan, "version"));
    settings_.max_threads = number<unsigned>(plan, "max_threads");
    settings_.downsampling_method = static_cast<ZarrDownsamplingMethod>(
      number<int>(plan, "downsampling_method"));
    settings_.output_key = text(plan["output_key"]);
    settings_.overwrite = number<bool>(plan, "overwrite");
    settings_.custom_metadata = text(plan["custom_metadata"]);
    settings_.max_levels = number<uint32_t>(plan, "max_levels");
    settings_.storage_dimension_order =
      order(plan["storage_dimension_order"]);

    for (const py::handle a : plan["arrays"]) {
        arrays_.push_back(array(py::reinterpret_borrow<py::dict>(a)));
    }
    settings_.arrays = data_or_null(arrays_);
    settings_.array_count = arrays_.size();

    for (const py::handle p : plan["plates"]) {
        plates_.push_back(plate(py::reinterpret_borrow<py::dict>(p)));
    }
    if (!plates_.empty()) {
        hcs_.plates = plates_.data();
        hcs_.plate_count = plates_.size();
        settings_.hcs_settings = &hcs_;
    }
}

const char*
CSettings::text(const py::handle& value)
{
    if (value.is_none()) {
        return nullptr;
    }
    return strings_.emplace_back(value.cast<std::string>()).c_str();
}

ZarrCompressionSettings*
CSettings::compression(const py::handle& value)
{
    if (value.is_none()) {
        return nullptr;
    }
    const auto plan = py::reinterpret_borrow<py::dict>(value);
    ZarrCompressionSettings& c = compressions_.emplace_back();
    c.compressor = static_cast<ZarrCompressor>(number<int>(plan, "compressor"));
    c.codec = static_cast<ZarrCompressionCodec>(number<int>(plan, "codec"));
    c.level = number<uint8_t>(plan, "level");
    c.shuffle = number<uint8_t>(plan, "shuffle");
    return &c;
}

void
CSettings::dimensions(const py::handle& list,
                      ZarrDimensionProperties** out,
                      size_t* count)
{
    auto& dims = dimensions_.emplace_back();
    for (const py::handle item : list) {
        const auto d = py::reinterpret_borrow<py::dict>(item);
        ZarrDimensionProperties p{};
        p.name = text(d["name"]);
        p.type = static_cast<ZarrDimensionType>(number<int>(d, "type"));
        p.array_size_px = number<uint32_t>(d, "array_size_px");
        p.chunk_size_px = number<uint32_t>(d, "chunk_size_px");
        p.shard_size_chunks = number<uint32_t>(d, "shard_size_chunks");
        p.unit = text(d["unit"]);
        p.scale = number<double>(d, "scale");
        dims.push_back(p);
    }
    *out = data_or_null(dims);
    *count = dims.size();
}

const size_t*
CSettings::order(const py::handle& value)
{
    if (value.is_none()) {
        return nullptr;
    }
    return orders_.emplace_back(value.cast<std::vector<size_t>>()).data();
}

ZarrArraySettings
CSettings::array(const py::dict& plan)
{
    ZarrArraySettings a{};
    a.output_key = text(plan["output_key"]);
    a.compression_settings = compression(plan["compression"]);
    dimensions(plan["dimensions"], &a.dimensions, &a.dimension_count);
    a.data_type = static_cast<ZarrDataType>(number<int>(plan, "data_type"));
    a.multiscale = number<bool>(plan, "multiscale");
    a.downsampling_method = static_cast<ZarrDownsamplingMethod>(
      number<int>(plan, "downsampling_method"));
    a.max_levels = number<uint32_t>(plan, "max_levels");
    a.storage_dimension_order = order(plan["storage_dimension_order"]);
    a.is_ngff = number<bool>(plan, "is_ngff");
    return a;
}

ZarrHCSWell
CSettings::well(const py::dict& plan)
{
    auto& images = images_.emplace_back();
    for (const py::handle item : plan["images"]) {
        const auto f = py::reinterpret_borrow<py::dict>(item);
        ZarrHCSFieldOfView fov{};
        fov.path = text(f["path"]);
        if (!f["acquisition_id"].is_none()) {
            fov.acquisition_id = number<uint32_t>(f, "acquisition_id");
            fov.has_acquisition_id = true;
        }
        fov.array_settings = &image_arrays_.emplace_back(
          array(py::reinterpret_borrow<py::dict>(f["array"])));
        images.push_back(fov);
    }
    ZarrHCSWell w{};
    w.row_name = text(plan["row_name"]);
    w.column_name = text(plan["column_name"]);
    w.images = data_or_null(images);
    w.image_count = images.size();
    return w;
}

const char**
CSettings::names(const py::handle& list, size_t* count)
{
    auto& out = names_.emplace_back();
    for (const py::handle name : list) {
        out.push_back(text(name));
    }
    *count = out.size();
    return data_or_null(out);
}

ZarrHCSPlate
CSettings::plate(const py::dict& plan)
{
    ZarrHCSPlate p{};
    p.path = text(plan["path"]);
    p.name = text(plan["name"]);
    p.row_names = names(plan["row_names"], &p.row_count);
    p.column_names = names(plan["column_names"], &p.column_count);

    auto& wells = wells_.emplace_back();
    for (const py::handle w : plan["wells"]) {
        wells.push_back(well(py::reinterpret_borrow<py::dict>(w)));
    }
    p.wells = data_or_null(wells);
    p.well_count = wells.size();

    auto& acquisitions = acquisitions_.emplace_back();
    for (const py::handle item : plan["acquisitions"]) {
        const auto a = py::reinterpret_borrow<py::dict>(item);
        ZarrHCSAcquisition acq{};
        acq.id = number<uint32_t>(a, "id");
        acq.name = text(a["name"]);
        acq.description = text(a["description"]);
        if (!a["start_time"].is_none()) {
            acq.start_time = number<uint64_t>(a, "start_time");
            acq.has_start_time = true;
        }
        if (!a["end_time"].is_none()) {
            acq.end_time = number<uint64_t>(a, "end_time");
            acq.has_end_time = true;
        }
        acquisitions.push_back(acq);
    }
    p.acquisitions = data_or_null(acquisitions);
    p.acquisition_count = acquisitions.size();
    return p;
}
