// acquire_zarr._core: the Python binding speaks only the public C API, so the
// Python tests exercise the same ABI that C programs use. The user-facing
// classes live in acquire_zarr/__init__.py.
#include "acquire.zarr.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace py = pybind11;

namespace {

[[noreturn]] void
raise_as(PyObject* type, const std::string& message)
{
    PyErr_SetString(type, message.c_str());
    throw py::error_already_set();
}

/// The one place where status codes become Python exceptions.
[[noreturn]] void
raise_status(ZarrStatusCode code)
{
    std::string message = Zarr_get_last_error();
    if (message.empty()) {
        message = Zarr_get_status_message(code);
    }
    switch (code) {
        case ZarrStatusCode_InvalidArgument:
        case ZarrStatusCode_InvalidSettings:
        case ZarrStatusCode_InvalidIndex:
        case ZarrStatusCode_Overflow:
        case ZarrStatusCode_WriteOutOfBounds:
            throw py::value_error(message);
        case ZarrStatusCode_KeyNotFound:
            raise_as(PyExc_KeyError, message);
        case ZarrStatusCode_NotYetImplemented:
            raise_as(PyExc_NotImplementedError, message);
        case ZarrStatusCode_OutOfMemory:
            raise_as(PyExc_MemoryError, message);
        case ZarrStatusCode_IOError:
            raise_as(PyExc_OSError, message);
        case ZarrStatusCode_WillNotOverwrite:
            raise_as(PyExc_FileExistsError, message);
        case ZarrStatusCode_Success:
        case ZarrStatusCode_InternalError:
        case ZarrStatusCode_CompressionError:
        case ZarrStatusCode_PartialWrite:
        case ZarrStatusCodeCount:
            break;
    }
    throw std::runtime_error(message);
}

using DimensionTuple = std::tuple<std::string,
                                  int,
                                  uint32_t,
                                  uint32_t,
                                  uint32_t,
                                  std::optional<std::string>,
                                  double>;
using CompressionTuple = std::tuple<int, int, int, int>;
using S3Tuple = std::tuple<std::string, std::string, std::optional<std::string>>;

class Stream
{
  public:
    Stream(const std::string& store_path,
           const std::optional<S3Tuple>& s3,
           const std::optional<CompressionTuple>& compression,
           const std::vector<DimensionTuple>& dimensions,
           bool multiscale,
           int data_type,
           int version,
           unsigned max_threads,
           int downsampling_method,
           const std::string& output_key,
           bool overwrite,
           const std::optional<std::string>& custom_metadata,
           uint32_t max_levels,
           const std::optional<std::vector<size_t>>& storage_dimension_order)
    {
        ZarrStreamSettings settings{};
        settings.store_path = store_path.c_str();

        ZarrS3Settings s3_settings{};
        if (s3) {
            s3_settings.endpoint = std::get<0>(*s3).c_str();
            s3_settings.bucket_name = std::get<1>(*s3).c_str();
            s3_settings.region =
              std::get<2>(*s3) ? std::get<2>(*s3)->c_str() : nullptr;
            settings.s3_settings = &s3_settings;
        }

        ZarrCompressionSettings compression_settings{};
        if (compression) {
            const auto& [compressor, codec, level, shuffle] = *compression;
            if (level < 0 || level > 255 || shuffle < 0 || shuffle > 255) {
                throw py::value_error(
                  "compression level and shuffle must be small non-negative integers");
            }
            compression_settings.compressor = static_cast<ZarrCompressor>(compressor);
            compression_settings.codec = static_cast<ZarrCompressionCodec>(codec);
            compression_settings.level = static_cast<uint8_t>(level);
            compression_settings.shuffle = static_cast<uint8_t>(shuffle);
            settings.compression_settings = &compression_settings;
        }

        std::vector<ZarrDimensionProperties> dims;
        dims.reserve(dimensions.size());
        for (const auto& [name, type, size, chunk, shard, unit, scale] : dimensions) {
            ZarrDimensionProperties d{};
            d.name = name.c_str();
            d.type = static_cast<ZarrDimensionType>(type);
            d.array_size_px = size;
            d.chunk_size_px = chunk;
            d.shard_size_chunks = shard;
            d.unit = unit ? unit->c_str() : nullptr;
            d.scale = scale;
            dims.push_back(d);
        }
        settings.dimensions = dims.empty() ? nullptr : dims.data();
        settings.dimension_count = dims.size();
        settings.multiscale = multiscale;
        settings.data_type = static_cast<ZarrDataType>(data_type);
        settings.version = static_cast<ZarrVersion>(version);
        settings.max_threads = max_threads;
        settings.downsampling_method =
          static_cast<ZarrDownsamplingMethod>(downsampling_method);
        settings.output_key = output_key.c_str();
        settings.overwrite = overwrite;
        settings.custom_metadata =
          custom_metadata ? custom_metadata->c_str() : nullptr;
        settings.max_levels = max_levels;
        if (storage_dimension_order) {
            if (storage_dimension_order->size() != dims.size()) {
                throw py::value_error("storage_dimension_order has " +
                                      std::to_string(storage_dimension_order->size()) +
                                      " entries but there are " +
                                      std::to_string(dims.size()) + " dimensions");
            }
            settings.storage_dimension_order = storage_dimension_order->data();
        }

        {
            py::gil_scoped_release release;
            stream_ = ZarrStream_create(&settings);
        }
        if (stream_ == nullptr) {
            // create returns NULL for every failure; the library records why.
            ZarrStatusCode code = Zarr_get_last_status();
            if (code == ZarrStatusCode_Success) {
                code = ZarrStatusCode_InternalError;
            }
            raise_status(code);
        }
    }

    ~Stream()
    {
        if (stream_ != nullptr) {
            py::gil_scoped_release release;
            ZarrStream_destroy(stream_);
            stream_ = nullptr;
        }
    }

    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    /// Appends the bytes of a C-contiguous buffer; returns bytes accepted.
    size_t append(const py::buffer& data)
    {
        check_active();
        Py_buffer view;
        if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_C_CONTIGUOUS) != 0) {
            throw py::error_already_set();
        }
        size_t written = 0;
        ZarrStatusCode code = ZarrStatusCode_Success;
        {
            py::gil_scoped_release release;
            code = ZarrStream_append(stream_, view.buf,
                                     static_cast<size_t>(view.len), &written);
        }
        PyBuffer_Release(&view);
        if (code != ZarrStatusCode_Success) {
            raise_status(code);
        }
        return written;
    }

    bool write_custom_metadata(const std::string& json, bool overwrite)
    {
        check_active();
        const ZarrStatusCode code =
          ZarrStream_write_custom_metadata(stream_, json.c_str(), overwrite);
        if (code == ZarrStatusCode_WillNotOverwrite) {
            return false;
        }
        if (code != ZarrStatusCode_Success) {
            raise_status(code);
        }
        return true;
    }

    void close()
    {
        if (stream_ == nullptr) {
            return;
        }
        ZarrStatusCode code = ZarrStatusCode_Success;
        {
            py::gil_scoped_release release;
            code = ZarrStream_close(stream_);
        }
        stream_ = nullptr;
        if (code != ZarrStatusCode_Success) {
            raise_status(code);
        }
    }

    bool is_active() const { return stream_ != nullptr; }

  private:
    // RuntimeError, as acquire_zarr.ZarrStream raises before reaching here
    // and as acquire-zarr 0.10 raises for an append after close.
    void check_active() const
    {
        if (stream_ == nullptr) {
            throw std::runtime_error("the stream is closed");
        }
    }

    ZarrStream* stream_ = nullptr;
};

} // namespace

PYBIND11_MODULE(_core, m)
{
    m.doc() = "Low-level binding of the acquire-zarr C API; use acquire_zarr.";

    py::class_<Stream>(m, "Stream")
      .def(py::init<const std::string&,
                    const std::optional<S3Tuple>&,
                    const std::optional<CompressionTuple>&,
                    const std::vector<DimensionTuple>&,
                    bool,
                    int,
                    int,
                    unsigned,
                    int,
                    const std::string&,
                    bool,
                    const std::optional<std::string>&,
                    uint32_t,
                    const std::optional<std::vector<size_t>>&>(),
           py::arg("store_path"),
           py::arg("s3"),
           py::arg("compression"),
           py::arg("dimensions"),
           py::arg("multiscale"),
           py::arg("data_type"),
           py::arg("version"),
           py::arg("max_threads"),
           py::arg("downsampling_method"),
           py::arg("output_key"),
           py::arg("overwrite"),
           py::arg("custom_metadata"),
           py::arg("max_levels") = 0,
           py::arg("storage_dimension_order") = py::none())
      .def("append", &Stream::append, py::arg("data"))
      .def("write_custom_metadata", &Stream::write_custom_metadata,
           py::arg("json"), py::arg("overwrite"))
      .def("close", &Stream::close)
      .def("is_active", &Stream::is_active);

    m.def("api_version", [] { return std::string(Zarr_get_api_version()); });
    m.def("set_log_level", [](int level) {
        const ZarrStatusCode code =
          Zarr_set_log_level(static_cast<ZarrLogLevel>(level));
        if (code != ZarrStatusCode_Success) {
            raise_status(code);
        }
    });
    m.def("get_log_level", [] { return static_cast<int>(Zarr_get_log_level()); });
    m.def("status_message", [](int code) {
        return std::string(
          Zarr_get_status_message(static_cast<ZarrStatusCode>(code)));
    });
}
