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
     *  NULL). bytes_in == 0 returns Success at once. Once a bounded append
     *  dimension is full, the bytes that do not fit are refused with
     *  Overflow and nothing of them is written. An error from a background
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

#ifdef __cplusplus
}
#endif

#endif /* ACQUIRE_ZARR_H */
