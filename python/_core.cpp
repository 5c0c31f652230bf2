// acquire_zarr._core: the Python binding speaks only the public C API, so the
// Python tests exercise the same ABI that C programs use. The user-facing
// classes live in the acquire_zarr package (python/acquire_zarr/).
#include "acquire.zarr.h"
#include "c_settings.hh"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;

namespace {

[[noreturn]] void
raise_as(PyObject* type, const std::string& message)
{
    PyErr_SetString(type, message.c_str());
    throw py::error_already_set();
}

/// The one place where status codes become Python exceptions: the class for
/// each code comes from acquire_zarr._errors, whose every class is both a
/// precise builtin type and acquire_zarr.ZarrError.
[[noreturn]] void
raise_status(ZarrStatusCode code)
{
    std::string message = Zarr_get_last_error();
    if (message.empty()) {
        message = Zarr_get_status_message(code);
    }
    const py::object type = py::module_::import("acquire_zarr._errors")
                              .attr("for_status")(static_cast<int>(code));
    raise_as(type.ptr(), message);
}

void
check(ZarrStatusCode code)
{
    if (code != ZarrStatusCode_Success) {
        raise_status(code);
    }
}

/// Keeps a C-contiguous view of a Python buffer for the length of a call.
class BufferView
{
  public:
    explicit BufferView(const py::handle& data)
    {
        if (PyObject_GetBuffer(data.ptr(), &view_, PyBUF_C_CONTIGUOUS) != 0) {
            throw py::error_already_set();
        }
    }
    ~BufferView() { PyBuffer_Release(&view_); }
    BufferView(const BufferView&) = delete;
    BufferView& operator=(const BufferView&) = delete;

    const void* data() const { return view_.buf; }
    size_t size() const { return static_cast<size_t>(view_.len); }

  private:
    Py_buffer view_{};
};

const char*
c_str_or_null(const std::optional<std::string>& text)
{
    return text ? text->c_str() : nullptr;
}

class Stream
{
  public:
    explicit Stream(const py::dict& plan)
    {
        CSettings settings(plan);
        {
            py::gil_scoped_release release;
            stream_ = ZarrStream_create(settings.get());
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

    /// Appends the bytes of a C-contiguous buffer with the seed-era call
    /// (accepts what fits); returns bytes accepted.
    size_t append(const py::buffer& data)
    {
        check_active();
        const BufferView view(data);
        return call_append(view.data(), view.size());
    }

    /// Appends to the array at `key` (None: the only array) with the keyed
    /// call (refuses an overflowing append whole).
    size_t append_to(const py::buffer& data, const std::optional<std::string>& key)
    {
        check_active();
        const BufferView view(data);
        return call_append_to(view.data(), view.size(), key);
    }

    /// `n_bytes` zeros, without a buffer: the C calls take NULL data as zeros.
    size_t skip(size_t n_bytes)
    {
        check_active();
        return call_append(nullptr, n_bytes);
    }

    size_t skip_to(size_t n_bytes, const std::optional<std::string>& key)
    {
        check_active();
        return call_append_to(nullptr, n_bytes, key);
    }

    bool write_custom_metadata(const std::string& json, bool overwrite)
    {
        check_active();
        const ZarrStatusCode code =
          ZarrStream_write_custom_metadata(stream_, json.c_str(), overwrite);
        if (code == ZarrStatusCode_WillNotOverwrite) {
            return false;
        }
        check(code);
        return true;
    }

    void write_attributes(const std::optional<std::string>& array_key,
                          const std::optional<std::string>& metadata_key,
                          const std::string& json)
    {
        check_active();
        check(ZarrStream_write_custom_metadata(stream_,
                                               c_str_or_null(array_key),
                                               c_str_or_null(metadata_key),
                                               json.c_str()));
    }

    size_t current_memory_usage() const
    {
        check_active();
        size_t usage = 0;
        check(ZarrStream_get_current_memory_usage(stream_, &usage));
        return usage;
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
    // ZarrError (a RuntimeError), as acquire_zarr.ZarrStream raises before
    // reaching here and as acquire-zarr 0.10 raises for an append after close.
    void check_active() const
    {
        if (stream_ == nullptr) {
            raise_as(py::module_::import("acquire_zarr._errors")
                       .attr("ZarrError")
                       .ptr(),
                     "the stream is closed");
        }
    }

    size_t call_append(const void* data, size_t bytes)
    {
        size_t written = 0;
        ZarrStatusCode code = ZarrStatusCode_Success;
        {
            py::gil_scoped_release release;
            code = ZarrStream_append(stream_, data, bytes, &written);
        }
        check(code);
        return written;
    }

    size_t call_append_to(const void* data,
                          size_t bytes,
                          const std::optional<std::string>& key)
    {
        size_t written = 0;
        ZarrStatusCode code = ZarrStatusCode_Success;
        {
            py::gil_scoped_release release;
            code = ZarrStream_append(stream_, data, bytes, &written,
                                     c_str_or_null(key));
        }
        check(code);
        return written;
    }

    ZarrStream* stream_ = nullptr;
};

std::vector<std::string>
array_keys(const py::dict& plan)
{
    CSettings settings(plan);
    const size_t count = ZarrStreamSettings_get_array_count(settings.get());
    std::vector<std::string> keys;
    for (size_t i = 0; i < count; ++i) {
        char* key = nullptr;
        check(ZarrStreamSettings_get_array_key(settings.get(), i, &key));
        keys.emplace_back(key != nullptr ? key : "");
        free(key); // NOLINT: the C API hands out malloc'd keys
    }
    return keys;
}

size_t
estimate_max_memory_usage(const py::dict& plan)
{
    CSettings settings(plan);
    size_t usage = 0;
    check(ZarrStreamSettings_estimate_max_memory_usage(settings.get(), &usage));
    return usage;
}

} // namespace

PYBIND11_MODULE(_core, m)
{
    m.doc() = "Low-level binding of the acquire-zarr C API; use acquire_zarr.";

    py::class_<Stream>(m, "Stream")
      .def(py::init<const py::dict&>(), py::arg("plan"))
      .def("append", &Stream::append, py::arg("data"))
      .def("append_to", &Stream::append_to, py::arg("data"), py::arg("key"))
      .def("skip", &Stream::skip, py::arg("n_bytes"))
      .def("skip_to", &Stream::skip_to, py::arg("n_bytes"), py::arg("key"))
      .def("write_custom_metadata", &Stream::write_custom_metadata,
           py::arg("json"), py::arg("overwrite"))
      .def("write_attributes", &Stream::write_attributes,
           py::arg("array_key"), py::arg("metadata_key"), py::arg("json"))
      .def("current_memory_usage", &Stream::current_memory_usage)
      .def("close", &Stream::close)
      .def("is_active", &Stream::is_active);

    m.def("array_keys", &array_keys, py::arg("plan"));
    m.def("estimate_max_memory_usage", &estimate_max_memory_usage,
          py::arg("plan"));
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
