// The C boundary: the only place where exceptions become status codes.
// The header's arity/size dispatch macros would rename the definitions here.
#define ACQUIRE_ZARR_NO_DISPATCH
#include "acquire.zarr.h"

#include "../stream/stream.hh"
#include "boundary.hh"
#include "../util/error.hh"
#include "../util/log.hh"
#include "../util/raw_enum.hh"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#ifndef ACQUIRE_ZARR_VERSION
#error "ACQUIRE_ZARR_VERSION must be defined by the build"
#endif

struct ZarrStream_s
{
    explicit ZarrStream_s(const ZarrStreamSettings* settings)
      : stream(settings)
    {
    }
    zarr::Stream stream;
};

namespace {

thread_local std::string t_last_error;
thread_local ZarrStatusCode t_last_status = ZarrStatusCode_Success;

} // namespace

ZarrStatusCode
zarr::api::record(ZarrStatusCode code, const std::string& message, bool log_it)
{
    // User input quoted in a message may hold bytes that are not UTF-8;
    // callers (Python among them) expect text.
    t_last_error = zarr::escape_invalid_utf8(message);
    t_last_status = code;
    if (log_it) {
        zarr::log::error(t_last_error);
    }
    return code;
}

using zarr::api::guarded;
using zarr::api::record;

extern "C" {

const char*
Zarr_get_api_version(void)
{
    return ACQUIRE_ZARR_VERSION;
}

ZarrStatusCode
Zarr_set_log_level(ZarrLogLevel level)
{
    const int value = zarr::raw_enum(level);
    if (value < 0 || value >= ZarrLogLevelCount) {
        return record(ZarrStatusCode_InvalidArgument,
                      zarr::cat("log level ", value,
                                " is not a ZarrLogLevel (0..",
                                ZarrLogLevelCount - 1, ")"));
    }
    zarr::log::set_level(level);
    return ZarrStatusCode_Success;
}

ZarrLogLevel
Zarr_get_log_level(void)
{
    return zarr::log::level();
}

const char*
Zarr_get_status_message(ZarrStatusCode code)
{
    const int value = zarr::raw_enum(code);
    if (value < 0 || value >= ZarrStatusCodeCount) {
        return "Unknown status code";
    }
    switch (code) {
        case ZarrStatusCode_Success:
            return "Success";
        case ZarrStatusCode_InvalidArgument:
            return "Invalid argument";
        case ZarrStatusCode_Overflow:
            return "Buffer overflow";
        case ZarrStatusCode_InvalidIndex:
            return "Invalid index";
        case ZarrStatusCode_NotYetImplemented:
            return "Not yet implemented";
        case ZarrStatusCode_InternalError:
            return "Internal error";
        case ZarrStatusCode_OutOfMemory:
            return "Out of memory";
        case ZarrStatusCode_IOError:
            return "I/O error";
        case ZarrStatusCode_CompressionError:
            return "Compression error";
        case ZarrStatusCode_InvalidSettings:
            return "Invalid settings";
        case ZarrStatusCode_WillNotOverwrite:
            return "Will not overwrite existing data";
        case ZarrStatusCode_PartialWrite:
            return "Partial write";
        case ZarrStatusCode_WriteOutOfBounds:
            return "Write out of bounds";
        case ZarrStatusCode_KeyNotFound:
            return "Key not found";
        case ZarrStatusCodeCount:
            break;
    }
    return "Unknown status code";
}

const char*
Zarr_get_last_error(void)
{
    return t_last_error.c_str();
}

ZarrStatusCode
Zarr_get_last_status(void)
{
    return t_last_status;
}

ZarrStatusCode
ZarrStreamSettings_create_dimension_array(ZarrStreamSettings* settings,
                                          size_t dimension_count)
{
    if (settings == nullptr) {
        return record(ZarrStatusCode_InvalidArgument,
                      "ZarrStreamSettings_create_dimension_array: settings is NULL");
    }
    if (dimension_count == 0) {
        return record(ZarrStatusCode_InvalidArgument,
                      "ZarrStreamSettings_create_dimension_array: "
                      "dimension_count is 0");
    }
    auto* dims = static_cast<ZarrDimensionProperties*>(
      std::calloc(dimension_count, sizeof(ZarrDimensionProperties)));
    if (dims == nullptr) {
        return record(ZarrStatusCode_OutOfMemory,
                      zarr::cat("ZarrStreamSettings_create_dimension_array: "
                                "cannot allocate ",
                                dimension_count, " dimensions"));
    }
    ZarrStreamSettings_destroy_dimension_array(settings);
    settings->dimensions = dims;
    settings->dimension_count = dimension_count;
    return ZarrStatusCode_Success;
}

void
ZarrStreamSettings_destroy_dimension_array(ZarrStreamSettings* settings)
{
    if (settings == nullptr) {
        return;
    }
    std::free(settings->dimensions);
    settings->dimensions = nullptr;
    settings->dimension_count = 0;
}

ZarrStream*
ZarrStream_create_sized(ZarrStreamSettings* settings, size_t settings_size)
{
    ZarrStream* stream = nullptr;
    const ZarrStatusCode code = guarded("ZarrStream_create", [&] {
        if (settings == nullptr) {
            stream = new ZarrStream_s(nullptr);
            return;
        }
        // A caller compiled against an older header passes a shorter
        // struct: the fields it does not know about read as zero.
        ZarrStreamSettings full{};
        std::memcpy(&full, settings, std::min(settings_size, sizeof full));
        stream = new ZarrStream_s(&full);
    });
    return code == ZarrStatusCode_Success ? stream : nullptr;
}

ZarrStream*
ZarrStream_create(ZarrStreamSettings* settings)
{
    return ZarrStream_create_sized(settings, ZARR_STREAM_SETTINGS_SIZE_V0_1);
}

void
ZarrStream_destroy(ZarrStream* stream)
{
    (void)ZarrStream_close(stream);
}

ZarrStatusCode
ZarrStream_close(ZarrStream* stream)
{
    if (stream == nullptr) {
        return ZarrStatusCode_Success;
    }
    const ZarrStatusCode code =
      guarded("ZarrStream_close", [&] { stream->stream.close(); });
    guarded("ZarrStream_close", [&] { delete stream; });
    return code;
}

ZarrStatusCode
ZarrStream_append_to(ZarrStream* stream,
                     const void* data,
                     size_t bytes_in,
                     size_t* bytes_out,
                     const char* key)
{
    size_t accepted = 0;
    ZarrStatusCode code = ZarrStatusCode_Success;
    if (stream == nullptr) {
        code = record(ZarrStatusCode_InvalidArgument, "ZarrStream_append: stream is NULL");
    } else {
        code = guarded("ZarrStream_append", [&] {
            stream->stream.append(key, static_cast<const uint8_t*>(data), bytes_in, accepted);
        });
    }
    if (bytes_out != nullptr) {
        *bytes_out = accepted;
    }
    return code;
}

ZarrStatusCode
ZarrStream_append(ZarrStream* stream,
                  const void* data,
                  size_t bytes_in,
                  size_t* bytes_out)
{
    return ZarrStream_append_to(stream, data, bytes_in, bytes_out, nullptr);
}

ZarrStatusCode
ZarrStream_write_attributes(ZarrStream* stream,
                            const char* array_key,
                            const char* metadata_key,
                            const char* json)
{
    if (stream == nullptr) {
        return record(ZarrStatusCode_InvalidArgument,
                      "ZarrStream_write_custom_metadata: stream is NULL");
    }
    if (json == nullptr) {
        return record(ZarrStatusCode_InvalidArgument,
                      "ZarrStream_write_custom_metadata: the JSON text is NULL");
    }
    return guarded("ZarrStream_write_custom_metadata", [&] {
        stream->stream.write_attributes(array_key, metadata_key, json);
    });
}

ZarrStatusCode
ZarrStream_get_current_memory_usage(const ZarrStream* stream, size_t* usage)
{
    if (stream == nullptr || usage == nullptr) {
        return record(ZarrStatusCode_InvalidArgument,
                      zarr::cat("ZarrStream_get_current_memory_usage: ",
                                stream == nullptr ? "stream" : "usage", " is NULL"));
    }
    return guarded("ZarrStream_get_current_memory_usage",
                   [&] { *usage = stream->stream.memory_usage(); });
}

ZarrStatusCode
ZarrStream_write_custom_metadata(ZarrStream* stream,
                                 const char* custom_metadata,
                                 bool overwrite)
{
    if (stream == nullptr) {
        return record(ZarrStatusCode_InvalidArgument,
                      "ZarrStream_write_custom_metadata: stream is NULL");
    }
    if (custom_metadata == nullptr) {
        return record(ZarrStatusCode_InvalidArgument,
                      "ZarrStream_write_custom_metadata: custom_metadata is NULL");
    }
    return guarded("ZarrStream_write_custom_metadata", [&] {
        stream->stream.write_custom_metadata(custom_metadata, overwrite);
    });
}

} // extern "C"
