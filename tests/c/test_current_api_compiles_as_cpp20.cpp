// A C++20 program written for acquire-zarr 0.8's API, as its users write
// it: designated initializers in field order, ZarrStream_append with a key
// and ZarrStream_write_custom_metadata with an array key and a metadata key,
// beside the seed-era 4- and 3-argument forms, through the header's macros.
#include "acquire.zarr.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                         #cond);                                                   \
            std::exit(1);                                                          \
        }                                                                          \
    } while (0)

/// The text of the file at `path` ("" if missing).
static std::string
slurp(const char* path)
{
    std::ifstream in(path);
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

int
main()
{
    ZarrDimensionProperties dims[3] = {
        { .name = "t", .type = ZarrDimensionType_Time, .array_size_px = 0, .chunk_size_px = 4,
          .shard_size_chunks = 1 },
        { .name = "y", .type = ZarrDimensionType_Space, .array_size_px = 8, .chunk_size_px = 8,
          .shard_size_chunks = 1 },
        { .name = "x", .type = ZarrDimensionType_Space, .array_size_px = 8, .chunk_size_px = 8,
          .shard_size_chunks = 1 },
    };
    ZarrArraySettings arrays[2] = {
        { .output_key = "pos0", .compression_settings = nullptr, .dimensions = dims,
          .dimension_count = 3, .data_type = ZarrDataType_uint16 },
        { .output_key = "pos1", .compression_settings = nullptr, .dimensions = dims,
          .dimension_count = 3, .data_type = ZarrDataType_uint16, .multiscale = true,
          .downsampling_method = ZarrDownsamplingMethod_Mean },
    };
    ZarrStreamSettings settings{
        .store_path = "cpp20.zarr",
        .s3_settings = nullptr,
        .version = ZarrVersion_3,
        .max_threads = 0,
        .overwrite = true,
        .arrays = arrays,
        .array_count = 2,
    };
    ZarrStream* stream = ZarrStream_create(&settings);
    CHECK(stream != nullptr);

    std::vector<uint16_t> frame(8 * 8, 7);
    size_t out = 0;
    CHECK(ZarrStream_append(stream, frame.data(), frame.size() * 2, &out, "pos0") ==
          ZarrStatusCode_Success);
    CHECK(out == frame.size() * 2);
    CHECK(ZarrStream_append(stream, frame.data(), frame.size() * 2, &out, "pos1") ==
          ZarrStatusCode_Success);
    // The seed-era form names no array: refused with two of them.
    CHECK(ZarrStream_append(stream, frame.data(), frame.size() * 2, &out) ==
          ZarrStatusCode_KeyNotFound);
    CHECK(ZarrStream_write_custom_metadata(stream, "pos0", "stage", R"({"x": 1.5})") ==
          ZarrStatusCode_Success);
    CHECK(ZarrStream_write_custom_metadata(stream, R"({"run": 1})", false) ==
          ZarrStatusCode_Success);
    // A plain v3 array keeps its attributes in its zarr.json, also after
    // the metadata is rewritten at close.
    CHECK(slurp("cpp20.zarr/pos0/zarr.json").find("\"stage\"") != std::string::npos);
    CHECK(ZarrStream_close(stream) == ZarrStatusCode_Success);
    const std::string pos0 = slurp("cpp20.zarr/pos0/zarr.json");
    CHECK(pos0.find("\"stage\"") != std::string::npos);
    CHECK(pos0.find("\"shape\": [\n        1,") != std::string::npos);
    CHECK(slurp("cpp20.zarr/pos1/zarr.json").find("\"multiscales\"") != std::string::npos);

    // A seed-era stream through the same header: 4-argument append.
    ZarrStreamSettings seed{ .store_path = "cpp20_seed.zarr", .dimensions = dims,
                             .dimension_count = 3, .data_type = ZarrDataType_uint16,
                             .version = ZarrVersion_3, .overwrite = true };
    stream = ZarrStream_create(&seed);
    CHECK(stream != nullptr);
    CHECK(ZarrStream_append(stream, frame.data(), frame.size() * 2, &out) ==
          ZarrStatusCode_Success);
    CHECK(ZarrStream_append(stream, nullptr, frame.size() * 2, &out, nullptr) ==
          ZarrStatusCode_Success);
    CHECK(ZarrStream_close(stream) == ZarrStatusCode_Success);
    return 0;
}
