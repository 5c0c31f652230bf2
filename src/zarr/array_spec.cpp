#include "array_spec.hh"

#include "../util/error.hh"

namespace zarr {

size_t
bytes_of(ZarrDataType dtype)
{
    switch (dtype) {
        case ZarrDataType_uint8:
        case ZarrDataType_int8:
            return 1;
        case ZarrDataType_uint16:
        case ZarrDataType_int16:
            return 2;
        case ZarrDataType_uint32:
        case ZarrDataType_int32:
        case ZarrDataType_float32:
            return 4;
        case ZarrDataType_uint64:
        case ZarrDataType_int64:
        case ZarrDataType_float64:
            return 8;
        case ZarrDataTypeCount:
            break;
    }
    fail(ZarrStatusCode_InvalidArgument, "invalid data type ", int(dtype));
}

const char*
dtype_name(ZarrDataType dtype)
{
    switch (dtype) {
        case ZarrDataType_uint8:
            return "uint8";
        case ZarrDataType_uint16:
            return "uint16";
        case ZarrDataType_uint32:
            return "uint32";
        case ZarrDataType_uint64:
            return "uint64";
        case ZarrDataType_int8:
            return "int8";
        case ZarrDataType_int16:
            return "int16";
        case ZarrDataType_int32:
            return "int32";
        case ZarrDataType_int64:
            return "int64";
        case ZarrDataType_float32:
            return "float32";
        case ZarrDataType_float64:
            return "float64";
        case ZarrDataTypeCount:
            break;
    }
    fail(ZarrStatusCode_InvalidArgument, "invalid data type ", int(dtype));
}

bool
is_float(ZarrDataType dtype)
{
    return dtype == ZarrDataType_float32 || dtype == ZarrDataType_float64;
}

std::string
join_key(const std::string& key, const std::string& name)
{
    return key.empty() ? name : key + "/" + name;
}

} // namespace zarr
