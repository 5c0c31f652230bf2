/*
 * zarr.types.h: the value types of the acquire-zarr C API.
 *
 * Plain C99. Every enum has explicit values that never change; new members
 * are only ever added before the `...Count` sentinel. Struct field order is
 * part of the ABI: new fields are only appended at the end of a struct, and a
 * zero-filled new field always means "the behaviour before the field existed".
 */
#ifndef ACQUIRE_ZARR_TYPES_H
#define ACQUIRE_ZARR_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* Export macro: the only way a symbol leaves the shared library. */
#if defined(_WIN32)
#if defined(ACQUIRE_ZARR_BUILDING)
#define ACQUIRE_ZARR_API __declspec(dllexport)
#elif defined(ACQUIRE_ZARR_STATIC)
#define ACQUIRE_ZARR_API
#else
#define ACQUIRE_ZARR_API __declspec(dllimport)
#endif
#else
#define ACQUIRE_ZARR_API __attribute__((visibility("default")))
#endif

    /** Result of every fallible call. Details of the most recent failure in
     *  the calling thread are available from Zarr_get_last_error(). */
    typedef enum
    {
        ZarrStatusCode_Success = 0,
        ZarrStatusCode_InvalidArgument,  /* a NULL or out-of-range argument */
        ZarrStatusCode_Overflow,         /* more data than the array can hold */
        ZarrStatusCode_InvalidIndex,
        ZarrStatusCode_NotYetImplemented,
        ZarrStatusCode_InternalError,    /* a bug: please report it */
        ZarrStatusCode_OutOfMemory,
        ZarrStatusCode_IOError,          /* the store refused a read/write/sync */
        ZarrStatusCode_CompressionError,
        ZarrStatusCode_InvalidSettings,  /* settings rejected at create */
        ZarrStatusCode_WillNotOverwrite, /* refused to replace existing data */
        ZarrStatusCode_PartialWrite,     /* only part of the data was written */
        ZarrStatusCode_WriteOutOfBounds, /* the append would overflow a bounded
                                            array: nothing was written */
        ZarrStatusCode_KeyNotFound,      /* no array has that key */
        /* new codes go here */
        ZarrStatusCodeCount,
    } ZarrStatusCode;

    typedef enum
    {
        ZarrVersion_2 = 2, /* Zarr v2 + OME-NGFF 0.4 */
        ZarrVersion_3,     /* Zarr v3 with sharding + OME-NGFF 0.5 */
        ZarrVersionCount
    } ZarrVersion;

    typedef enum
    {
        ZarrLogLevel_Debug = 0,
        ZarrLogLevel_Info,
        ZarrLogLevel_Warning,
        ZarrLogLevel_Error,
        ZarrLogLevel_None, /* log nothing */
        ZarrLogLevelCount
    } ZarrLogLevel;

    typedef enum
    {
        ZarrDataType_uint8 = 0,
        ZarrDataType_uint16,
        ZarrDataType_uint32,
        ZarrDataType_uint64,
        ZarrDataType_int8,
        ZarrDataType_int16,
        ZarrDataType_int32,
        ZarrDataType_int64,
        ZarrDataType_float32,
        ZarrDataType_float64,
        ZarrDataTypeCount
    } ZarrDataType;

    typedef enum
    {
        ZarrCompressor_None = 0,
        ZarrCompressor_Blosc1, /* c-blosc 1.x chunks, readable by numcodecs */
        ZarrCompressor_Zstd,   /* one zstd frame per chunk, with codec Zstd.
                                  Extension, since 0.1.0. */
        ZarrCompressorCount
    } ZarrCompressor;

    typedef enum
    {
        ZarrCompressionCodec_None = 0,
        ZarrCompressionCodec_BloscLZ4,
        ZarrCompressionCodec_BloscZstd,
        ZarrCompressionCodec_Zstd, /* with ZarrCompressor_Zstd only.
                                      Extension, since 0.1.0. */
        ZarrCompressionCodecCount
    } ZarrCompressionCodec;

    typedef enum
    {
        ZarrDimensionType_Space = 0,
        ZarrDimensionType_Channel,
        ZarrDimensionType_Time,
        ZarrDimensionType_Other,
        ZarrDimensionTypeCount
    } ZarrDimensionType;

    typedef enum
    {
        ZarrDownsamplingMethod_Decimate = 0, /* top-left pixel of each block */
        ZarrDownsamplingMethod_Mean,
        ZarrDownsamplingMethod_Min,
        ZarrDownsamplingMethod_Max,
        ZarrDownsamplingMethodCount
    } ZarrDownsamplingMethod;

    /** How requests name the bucket (docs/s3.md): in the path,
     *  <endpoint>/<bucket>/<key> (the default, which every S3-compatible
     *  server takes), or in the host name, <bucket>.<endpoint host>/<key>,
     *  for endpoints that require it. Virtual-host addressing needs a bucket
     *  name that is a DNS label (no '.' or '_') and an endpoint that is a
     *  host name, not an IP address. */
    typedef enum
    {
        ZarrS3AddressingStyle_Path = 0,
        ZarrS3AddressingStyle_VirtualHost,
        ZarrS3AddressingStyleCount
    } ZarrS3AddressingStyle;

    /** Where an S3-compatible object store lives. With these settings the
     *  stream writes to s3://bucket_name/<store_path>/... */
    typedef struct
    {
        const char* endpoint;    /* e.g. "http://localhost:9000" */
        const char* bucket_name; /* must already exist */
        const char* region;      /* NULL: "us-east-1" */
    } ZarrS3Settings;

    /** Chunk compression. compressor and codec are both None, or both set. */
    typedef struct
    {
        ZarrCompressor compressor;
        ZarrCompressionCodec codec;
        uint8_t level;   /* Blosc1: 0 (fastest) .. 9 (smallest); Zstd: 0
                            (zstd's default, 3) or 1 (fastest) .. 22 */
        uint8_t shuffle; /* Blosc1: 0 none, 1 byte shuffle, 2 bit shuffle;
                            Zstd: 0 */
    } ZarrCompressionSettings;

    /** One array dimension. Dimensions are listed slowest to fastest; the
     *  first is the append dimension, the last two are a frame's height and
     *  width. */
    typedef struct
    {
        const char* name;           /* unique, non-empty */
        ZarrDimensionType type;
        uint32_t array_size_px;     /* 0 on the append dimension: unbounded */
        uint32_t chunk_size_px;     /* > 0 */
        uint32_t shard_size_chunks; /* Zarr v3 only; 0 is treated as 1 */
        const char* unit;           /* NULL: none, e.g. "micrometer" */
        double scale;               /* physical pixel size; 0 means 1.0 */
    } ZarrDimensionProperties;

    /** One array of a stream built from arrays (the current API). */
    typedef struct
    {
        const char* output_key; /* NULL or "": the store root */
        ZarrCompressionSettings* compression_settings; /* NULL: uncompressed */
        ZarrDimensionProperties* dimensions;
        size_t dimension_count; /* >= 2; 2: one bounded y x image */
        ZarrDataType data_type;
        bool multiscale; /* an OME-NGFF image group with a pyramid */
        ZarrDownsamplingMethod downsampling_method;
        uint32_t max_levels; /* downsampled levels at most; 0: no cap */
        /** NULL: stored in acquisition order (the order of `dimensions`).
         *  Else `dimension_count` indices into `dimensions`: the order of the
         *  stored array's axes, slowest first. Frames are transposed on the
         *  way in. */
        const size_t* storage_dimension_order;

        /* Extensions (zero means the behaviour without them). */

        /** With multiscale false: an OME-NGFF image group holding the one
         *  level "0", instead of a plain array. Extension, since 0.2.0. */
        bool is_ngff;
    } ZarrArraySettings;

    /** One field of view of an HCS well: an OME-NGFF image group at
     *  <plate>/<row>/<column>/<path>. */
    typedef struct
    {
        const char* path;
        uint32_t acquisition_id;
        bool has_acquisition_id;
        ZarrArraySettings* array_settings; /* output_key is ignored */
    } ZarrHCSFieldOfView;

    typedef struct
    {
        const char* row_name;
        const char* column_name;
        ZarrHCSFieldOfView* images;
        size_t image_count;
    } ZarrHCSWell;

    typedef struct
    {
        uint32_t id;
        const char* name;        /* NULL: none */
        const char* description; /* NULL: none */
        uint64_t start_time;     /* epoch, in the unit the caller chooses */
        bool has_start_time;
        uint64_t end_time;
        bool has_end_time;
    } ZarrHCSAcquisition;

    /** An OME-NGFF high-content-screening plate at `path`. */
    typedef struct
    {
        const char* path;
        const char* name; /* NULL: the path */
        const char** row_names;
        size_t row_count;
        const char** column_names;
        size_t column_count;
        ZarrHCSWell* wells;
        size_t well_count;
        ZarrHCSAcquisition* acquisitions;
        size_t acquisition_count;
    } ZarrHCSPlate;

    typedef struct
    {
        ZarrHCSPlate* plates;
        size_t plate_count;
    } ZarrHCSSettings;

    /** Everything ZarrStream_create needs. The stream copies what it uses:
     *  the caller may free these settings as soon as create returns. */
    typedef struct ZarrStreamSettings_s
    {
        const char* store_path; /* directory, "file://" URL, or S3 key prefix */
        ZarrS3Settings* s3_settings;                  /* NULL: filesystem */
        ZarrCompressionSettings* compression_settings; /* NULL: uncompressed */
        ZarrDimensionProperties* dimensions;
        size_t dimension_count; /* >= 3 */
        bool multiscale;        /* also write a downsampled pyramid */
        ZarrDataType data_type;
        ZarrVersion version;    /* 0 is treated as ZarrVersion_3 */
        unsigned int max_threads; /* 0: one per hardware thread */
        ZarrDownsamplingMethod downsampling_method;
        const char* output_key; /* NULL or "": the store root */
        bool overwrite;         /* true: delete store_path first */

        /* Extensions (zero means the behaviour without them). */

        /** A JSON object merged into the attributes of the store's root
         *  group at create (never under the reserved "ome" key). NULL or
         *  "": none. Extension, since 0.1.0. */
        const char* custom_metadata;

        /* The current API (acquire-zarr 0.5 and later), since 0.2.0. A
         * stream is built either from the seed-era fields above
         * (`dimensions`...) or from `arrays` and/or `hcs_settings`, never
         * both. */

        ZarrArraySettings* arrays; /* flat arrays, each at its output_key */
        size_t array_count;
        ZarrHCSSettings* hcs_settings; /* NULL: no plates */
        /** Seed-era single array: downsampled levels at most; 0: no cap. */
        uint32_t max_levels;
        /** Seed-era single array: as ZarrArraySettings's field. */
        const size_t* storage_dimension_order;

        /** With s3_settings: how requests name the bucket. Here rather than
         *  in ZarrS3Settings, whose size is not versioned (an old binary's
         *  ZarrS3Settings ends before a new field). Extension, since 0.2.0. */
        ZarrS3AddressingStyle s3_addressing_style;
    } ZarrStreamSettings;

    /** Size of the ZarrStreamSettings of the 0.1 headers (up to
     *  custom_metadata): what the plain ZarrStream_create symbol reads. */
#define ZARR_STREAM_SETTINGS_SIZE_V0_1                                        \
    (offsetof(ZarrStreamSettings, custom_metadata) + sizeof(const char*))

    typedef struct ZarrStream_s ZarrStream;

#ifdef __cplusplus
}
#endif

#endif /* ACQUIRE_ZARR_TYPES_H */
