/*
 * acquire.zarr.h: stream frames into a Zarr v2/v3 store with OME-NGFF
 * metadata, on a local filesystem or an S3-compatible object store.
 *
 * Typical use:
 *
 *     ZarrStreamSettings s = { .store_path = "out.zarr", ... };
 *     ZarrStream* stream = ZarrStream_create(&s);
 *     if (!stream) { fprintf(stderr, "%s\n", Zarr_get_last_error()); ... }
 *     ZarrStream_append(stream, frame, frame_bytes, &written);
 *     ...
 *     if (ZarrStream_close(stream) != ZarrStatusCode_Success) { ... }
 *
 * Thread safety: a ZarrStream is used from one thread at a time. Different
 * streams may be used concurrently. The library runs its own worker threads.
 */
#ifndef ACQUIRE_ZARR_H
#define ACQUIRE_ZARR_H

#include "zarr.types.h"

#ifdef __cplusplus
extern "C"
{
#endif

    /** The library version as a semver string, e.g. "0.1.0". Never NULL.
     *  Since 0.1.0. */
    ACQUIRE_ZARR_API const char* Zarr_get_api_version(void);

    /** Sets the process-wide log threshold (default: ZarrLogLevel_Info).
     *  Returns InvalidArgument for a value outside the enum. Since 0.1.0. */
    ACQUIRE_ZARR_API ZarrStatusCode Zarr_set_log_level(ZarrLogLevel level);

    /** The current process-wide log threshold. Since 0.1.0. */
    ACQUIRE_ZARR_API ZarrLogLevel Zarr_get_log_level(void);

    /** A static human-readable text for `code`. Never NULL: an unknown code
     *  gives "Unknown status code". Since 0.1.0. */
    ACQUIRE_ZARR_API const char* Zarr_get_status_message(ZarrStatusCode code);

    /** Text describing the most recent failure of a call made from the
     *  calling thread (including a NULL returned by ZarrStream_create), or
     *  "" if none. Valid until the next failing call in this thread.
     *  Extension, since 0.1.0. */
    ACQUIRE_ZARR_API const char* Zarr_get_last_error(void);

    /** The status code of that same most recent failure in the calling
     *  thread (ZarrStatusCode_Success if none): tells why
     *  ZarrStream_create returned NULL, e.g. ZarrStatusCode_InvalidSettings
     *  for bad settings or ZarrStatusCode_IOError for an unreachable store.
     *  Extension, since 0.1.0. */
    ACQUIRE_ZARR_API ZarrStatusCode Zarr_get_last_status(void);

    /** Allocates `dimension_count` zero-filled dimension entries in
     *  `settings->dimensions` (freeing any array allocated earlier by this
     *  function) and sets `settings->dimension_count`. Returns
     *  InvalidArgument for a NULL settings or a zero count, OutOfMemory if the
     *  allocation fails. Since 0.1.0. */
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrStreamSettings_create_dimension_array(ZarrStreamSettings* settings,
                                              size_t dimension_count);

    /** Frees the array allocated by ZarrStreamSettings_create_dimension_array,
     *  sets `dimensions` to NULL and `dimension_count` to 0. NULL-safe.
     *  Since 0.1.0. */
    ACQUIRE_ZARR_API void ZarrStreamSettings_destroy_dimension_array(
      ZarrStreamSettings* settings);

    /** Validates `settings`, creates the store and writes the initial
     *  metadata (readers see an empty array at once). Returns NULL on any
     *  failure, after logging an Error line naming the offending field and
     *  value; Zarr_get_last_error() returns the same text. The settings are
     *  copied: the caller may free them when this returns. Since 0.1.0. */
    ACQUIRE_ZARR_API ZarrStream* ZarrStream_create(
      ZarrStreamSettings* settings);

    /** Flushes all pending data (partial chunks and shards are written,
     *  padded with zeros), writes the final metadata and frees the stream.
     *  NULL-safe. Failures are logged; use ZarrStream_close to see them.
     *  Since 0.1.0. */
    ACQUIRE_ZARR_API void ZarrStream_destroy(ZarrStream* stream);

    /** Like ZarrStream_destroy, but returns Success only if every appended
     *  byte and all metadata reached storage durably (fdatasync on a
     *  filesystem). The stream is freed in every case. NULL-safe (returns
     *  Success). Extension, since 0.1.0. */
    ACQUIRE_ZARR_API ZarrStatusCode ZarrStream_close(ZarrStream* stream);

    /** Appends `bytes_in` bytes of pixel data in C order: a partial frame,
     *  one frame or many frames. A partial frame is kept until the rest
     *  arrives. `*bytes_out` receives the number of bytes accepted (may be
     *  NULL). bytes_in == 0 returns Success at once. `data` NULL appends
     *  `bytes_in` zero bytes (since 0.2.0). Once a bounded append
     *  dimension is full, the bytes that do not fit are refused with
     *  Overflow and nothing of them is written; on a stream built from
     *  `arrays`/`hcs_settings` this is ZarrStream_append_to with key NULL. An error from a background
     *  write or compression is returned by the next append (and by close).
     *  May block while the writer is behind (backpressure).
     *  Since 0.1.0. */
    ACQUIRE_ZARR_API ZarrStatusCode ZarrStream_append(ZarrStream* stream,
                                                      const void* data,
                                                      size_t bytes_in,
                                                      size_t* bytes_out);

    /** Writes `custom_metadata` (a JSON object) pretty-printed to
     *  `acquire.json` at the store root. InvalidArgument if it is not valid
     *  JSON or not an object. If the document was already written by this
     *  stream and `overwrite` is false, returns WillNotOverwrite and keeps
     *  the first document. Since 0.1.0. */
    ACQUIRE_ZARR_API ZarrStatusCode ZarrStream_write_custom_metadata(
      ZarrStream* stream,
      const char* custom_metadata,
      bool overwrite);

    /* ---- The current API (acquire-zarr 0.5 and later). Since 0.2.0. ---- */

    /** Allocates `array_count` zero-filled entries in `settings->arrays`
     *  (freeing any earlier ones and their dimension arrays) and sets
     *  `array_count`. InvalidArgument for NULL settings or a count of 0,
     *  OutOfMemory. The other create functions below work the same way. */
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrStreamSettings_create_arrays(ZarrStreamSettings* settings,
                                     size_t array_count);

    /** Frees `settings->arrays` and every dimension array allocated in it
     *  by ZarrArraySettings_create_dimension_array. NULL-safe. */
    ACQUIRE_ZARR_API void ZarrStreamSettings_destroy_arrays(
      ZarrStreamSettings* settings);

    /** As ZarrStreamSettings_create_dimension_array, for one array. */
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrArraySettings_create_dimension_array(ZarrArraySettings* settings,
                                             size_t dimension_count);
    ACQUIRE_ZARR_API void ZarrArraySettings_destroy_dimension_array(
      ZarrArraySettings* settings);

    /** Allocates zero-filled fields of view in `well->images`, each with
     *  its own zero-filled `array_settings` to fill in place. */
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrHCSWell_create_image_array(ZarrHCSWell* well, size_t image_count);
    /** Frees `well->images` and the array settings (with their dimension
     *  arrays) that ZarrHCSWell_create_image_array allocated; array
     *  settings the caller put there instead are left alone. NULL-safe. */
    ACQUIRE_ZARR_API void ZarrHCSWell_destroy_image_array(ZarrHCSWell* well);

    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrHCSPlate_create_well_array(ZarrHCSPlate* plate, size_t well_count);
    ACQUIRE_ZARR_API void ZarrHCSPlate_destroy_well_array(ZarrHCSPlate* plate);
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrHCSPlate_create_acquisition_array(ZarrHCSPlate* plate,
                                          size_t acquisition_count);
    ACQUIRE_ZARR_API void ZarrHCSPlate_destroy_acquisition_array(
      ZarrHCSPlate* plate);
    /** Allocates `row_count` NULL row names; the caller sets each (the
     *  destroy function frees the array, not the names). */
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrHCSPlate_create_row_name_array(ZarrHCSPlate* plate, size_t row_count);
    ACQUIRE_ZARR_API void ZarrHCSPlate_destroy_row_name_array(
      ZarrHCSPlate* plate);
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrHCSPlate_create_column_name_array(ZarrHCSPlate* plate,
                                          size_t column_count);
    ACQUIRE_ZARR_API void ZarrHCSPlate_destroy_column_name_array(
      ZarrHCSPlate* plate);

    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrHCSSettings_create_plate_array(ZarrHCSSettings* settings,
                                       size_t plate_count);
    ACQUIRE_ZARR_API void ZarrHCSSettings_destroy_plate_array(
      ZarrHCSSettings* settings);

    /** Number of arrays the settings describe (flat arrays plus every
     *  field of view of every plate; 1 for seed-era settings). */
    ACQUIRE_ZARR_API size_t
    ZarrStreamSettings_get_array_count(const ZarrStreamSettings* settings);

    /** The key of array `index` (the order of get_array_count), as a string
     *  the caller frees with free(). InvalidIndex when out of range. */
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrStreamSettings_get_array_key(const ZarrStreamSettings* settings,
                                     size_t index,
                                     char** key);

    /** An upper bound of the memory a stream with these settings holds:
     *  every array's buffers at their largest, the pool's budgets, and an
     *  allowance per thread and per stream. Validates the settings as
     *  ZarrStream_create does (without touching the store). */
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrStreamSettings_estimate_max_memory_usage(
      const ZarrStreamSettings* settings,
      size_t* usage);

    /** Memory the stream's buffers hold now: chunk, plane and pack buffers
     *  (in use or kept for reuse) and partial-frame staging. */
    ACQUIRE_ZARR_API ZarrStatusCode
    ZarrStream_get_current_memory_usage(const ZarrStream* stream,
                                        size_t* usage);

    /** Creates a stream from settings of `settings_size` bytes (sizeof the
     *  ZarrStreamSettings the caller was compiled with); fields beyond it
     *  are taken as zero. ZarrStream_create(s) maps to this call. */
    ACQUIRE_ZARR_API ZarrStream* ZarrStream_create_sized(
      ZarrStreamSettings* settings,
      size_t settings_size);

    /** Appends to the array at `key` (NULL or "": the only array). On a
     *  stream built from arrays, an append that would overflow a bounded
     *  array is refused whole with WriteOutOfBounds. `data` NULL appends
     *  `bytes_in` zero bytes. Unknown key: KeyNotFound.
     *  ZarrStream_append(s, d, n, out, key) maps to this call. */
    ACQUIRE_ZARR_API ZarrStatusCode ZarrStream_append_to(ZarrStream* stream,
                                                         const void* data,
                                                         size_t bytes_in,
                                                         size_t* bytes_out,
                                                         const char* key);

    /** Writes a JSON object into the attributes of the node at `array_key`
     *  (NULL or "": the root; also a group the stream made: a parent, a
     *  plate, a well): merged key by key with `metadata_key` NULL or "",
     *  else stored under attributes[metadata_key]. The key "ome" is
     *  reserved, and so are the OME-NGFF keys the stream writes on v2
     *  ("multiscales", "plate", "well") where it writes them
     *  (InvalidArgument). Unknown key: KeyNotFound. Written at once,
     *  atomically (v2 .zattrs, v3 zarr.json).
     *  ZarrStream_write_custom_metadata(s, array_key, metadata_key, json)
     *  maps to this call. */
    ACQUIRE_ZARR_API ZarrStatusCode ZarrStream_write_attributes(
      ZarrStream* stream,
      const char* array_key,
      const char* metadata_key,
      const char* json);

#ifdef __cplusplus
}
#endif

/* Both generations of the API by argument count: 4-argument
 * ZarrStream_append and 3-argument ZarrStream_write_custom_metadata are the
 * seed-era calls (their symbols stay exported, so function pointers and old
 * binaries keep working); the 5- and 4-argument forms are acquire-zarr 0.5+
 * calls. ZarrStream_create passes the size of the settings struct this
 * header declares. Define ACQUIRE_ZARR_NO_DISPATCH to turn these off. */
#if !defined(ACQUIRE_ZARR_NO_DISPATCH)
#define ZARR_PICK_5TH_(a, b, c, d, e, ...) e
#define ZARR_PICK_6TH_(a, b, c, d, e, f, ...) f
#define ZarrStream_append(...)                                                \
    ZARR_PICK_6TH_(__VA_ARGS__, ZarrStream_append_to, ZarrStream_append, ~, ~,\
                   ~)(__VA_ARGS__)
#define ZarrStream_write_custom_metadata(...)                                 \
    ZARR_PICK_5TH_(__VA_ARGS__, ZarrStream_write_attributes,                  \
                   ZarrStream_write_custom_metadata, ~, ~)(__VA_ARGS__)
#define ZarrStream_create(settings)                                           \
    ZarrStream_create_sized((settings), sizeof(ZarrStreamSettings))
#endif

#endif /* ACQUIRE_ZARR_H */
