"""Stream camera frames into Zarr v2/v3 stores with OME-NGFF metadata.

Typical use::

    import acquire_zarr as aqz
    import numpy as np

    settings = aqz.StreamSettings(
        store_path="out.zarr",
        data_type=aqz.DataType.UINT16,
        dimensions=[
            aqz.Dimension(name="t", kind=aqz.DimensionType.TIME,
                          array_size_px=0, chunk_size_px=32, shard_size_chunks=1),
            aqz.Dimension(name="y", kind=aqz.DimensionType.SPACE,
                          array_size_px=2048, chunk_size_px=256, shard_size_chunks=8),
            aqz.Dimension(name="x", kind=aqz.DimensionType.SPACE,
                          array_size_px=2048, chunk_size_px=256, shard_size_chunks=8),
        ],
    )
    with aqz.ZarrStream(settings) as stream:
        stream.append(np.zeros((10, 2048, 2048), dtype=np.uint16))

Several arrays in one stream (acquire-zarr's current API)::

    settings = aqz.StreamSettings(store_path="out.zarr", arrays=[
        aqz.ArraySettings(output_key="pos0", dimensions=dims, data_type=np.uint16),
        aqz.ArraySettings(output_key="pos1", dimensions=dims, data_type=np.uint16),
    ])
    with aqz.ZarrStream(settings) as stream:
        stream.append(frame0, key="pos0")
        stream.append(frame1, key="pos1")
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

import numpy as np

from . import _core, _plan
from ._arrays import Acquisition, ArraySettings, FieldOfView, Plate, Well
from ._errors import (
    ArrayKeyError,
    InvalidArgumentError,
    InvalidSettingsError,
    NotYetImplementedError,
    OverflowWriteError,
    StorageError,
    WillNotOverwriteError,
    ZarrError,
    ZarrMemoryError,
)
from ._stream_settings import StreamSettings
from ._types import (
    _DTYPES,
    CompressionCodec,
    CompressionSettings,
    Compressor,
    DataType,
    Dimension,
    DimensionType,
    DownsamplingMethod,
    LogLevel,
    S3Settings,
    ZarrVersion,
    _enum,
)

__version__: str = _core.api_version()

__all__ = [
    "Acquisition",
    "ArrayKeyError",
    "ArraySettings",
    "CompressionCodec",
    "CompressionSettings",
    "Compressor",
    "DataType",
    "Dimension",
    "DimensionType",
    "DownsamplingMethod",
    "FieldOfView",
    "InvalidArgumentError",
    "InvalidSettingsError",
    "LogLevel",
    "NotYetImplementedError",
    "OverflowWriteError",
    "Plate",
    "S3Settings",
    "StorageError",
    "StreamSettings",
    "Well",
    "WillNotOverwriteError",
    "ZarrError",
    "ZarrMemoryError",
    "ZarrStream",
    "ZarrVersion",
    "get_log_level",
    "set_log_level",
    "__version__",
]


def _normal_key(key: str) -> str:
    """A key as the library compares it: no leading, trailing or doubled /."""
    return "/".join(part for part in key.split("/") if part)


def _dtypes_by_key(plan: Dict[str, Any]) -> Dict[str, np.dtype]:
    """The data type of each array, to check appends before they reach the
    library (which sees bytes only)."""
    if not plan["arrays"] and not plan["plates"]:
        return {_normal_key(plan["output_key"]): _DTYPES[DataType(plan["data_type"])]}
    out = {_normal_key(a["output_key"]): _DTYPES[DataType(a["data_type"])]
           for a in plan["arrays"]}
    for p in plan["plates"]:
        for w in p["wells"]:
            for f in w["images"]:
                key = "/".join((p["path"], w["row_name"], w["column_name"], f["path"]))
                out[_normal_key(key)] = _DTYPES[DataType(f["array"]["data_type"])]
    return out


class ZarrStream:
    """A stream of frames into a Zarr store: one array (seed-era settings) or
    any number of arrays and HCS plates (``arrays``/``hcs_plates``).

    Every library error is a ``ZarrError`` (a ``RuntimeError``) and also a
    precise type: ``InvalidSettingsError`` (ValueError) for settings, whose
    message names the field and value; ``StorageError`` (OSError) for
    storage failures; ``ArrayKeyError`` (KeyError) for an unknown key. A call
    other than close() once the stream is closed raises ZarrError. Use as a
    context manager or call close(); close() raises if any data could not be
    written.
    """

    def __init__(self, settings: StreamSettings) -> None:
        if not isinstance(settings, StreamSettings):
            raise TypeError(f"ZarrStream() needs a StreamSettings, got {settings!r}")
        self._stream = None
        plan = _plan.stream_plan(settings)
        self._seed_era = not plan["arrays"] and not plan["plates"]
        self._dtypes = _dtypes_by_key(plan)
        self._stream = _core.Stream(plan)

    def _dtype(self, key: Optional[str]) -> Optional[np.dtype]:
        if not key:
            return next(iter(self._dtypes.values())) if len(self._dtypes) == 1 else None
        # None for a key we do not know: the library names it in its error.
        return self._dtypes.get(_normal_key(key))

    def append(self, data: Any, key: Optional[str] = None) -> None:
        """Appends pixels in C order to the array at ``key`` (None: the only
        array): a partial frame, a frame or many frames.

        numpy arrays must have the array's data type (else TypeError);
        non-contiguous arrays are written in logical (C) order. Raw bytes,
        bytearray and byte memoryviews are appended as they are. When a
        bounded array is full: OverflowWriteError (a ValueError); on a
        seed-era stream the frames that fit are written, on a stream built
        from arrays the whole append is refused. Unknown key: ArrayKeyError.
        StorageError/ZarrError when a background write failed.
        """
        stream = self._active()
        if key is not None and not isinstance(key, str):
            raise TypeError(f"key must be a str or None, got {key!r}")
        if isinstance(data, (bytes, bytearray)) or (
                isinstance(data, memoryview) and data.format in ("B", "b", "c")
                and data.c_contiguous):
            buffer = data
        else:
            array = np.asarray(data)
            dtype = self._dtype(key)
            if dtype is not None and array.dtype != dtype:
                where = f"the array {key!r}" if key else "the stream"
                raise TypeError(
                    f"append() got an array of dtype {array.dtype}, but {where} "
                    f"writes {dtype} (its data_type)")
            if array.size == 0:
                return
            buffer = np.ascontiguousarray(array)
        if self._seed_era and key is None:
            stream.append(buffer)
        else:
            stream.append_to(buffer, key)

    def skip(self, n_bytes: int, key: Optional[str] = None) -> None:
        """Appends ``n_bytes`` zero bytes to the array at ``key`` (None: the
        only array), without a buffer: frames that were not acquired read as
        zeros. Refused like append() when the array is full."""
        stream = self._active()
        if isinstance(n_bytes, bool) or not isinstance(n_bytes, (int, np.integer)) \
                or n_bytes < 0:
            raise TypeError(f"n_bytes must be a non-negative integer, got {n_bytes!r}")
        if key is not None and not isinstance(key, str):
            raise TypeError(f"key must be a str or None, got {key!r}")
        if self._seed_era and key is None:
            stream.skip(int(n_bytes))
        else:
            stream.skip_to(int(n_bytes), key)

    def write_custom_metadata(self, metadata: "str | dict", overwrite: bool = False, *,
                              array_key: Optional[str] = None,
                              metadata_key: Optional[str] = None) -> bool:
        """Writes a JSON object (a str, or a dict serialised here).

        On a stream built from ``arrays``/``hcs_plates``, or when a keyword
        is given: written at once into the attributes of the node at
        ``array_key`` (None: the root group), merged key by key, or under
        ``attributes[metadata_key]`` when given; returns True. ``overwrite``
        does not apply there (later keys replace earlier ones, as in
        acquire-zarr).

        On a seed-era stream without keywords: writes ``acquire.json`` at the
        store root; returns False (and keeps the existing document) when one
        exists and overwrite is False.

        Raises InvalidArgumentError (a ValueError) if the text is not a JSON
        object or uses the reserved key ``ome``; ArrayKeyError for an
        unknown ``array_key``.
        """
        if isinstance(metadata, dict):
            metadata = json.dumps(metadata)
        elif not isinstance(metadata, str):
            raise TypeError(f"metadata must be a str or dict, got {metadata!r}")
        for name, value in (("array_key", array_key), ("metadata_key", metadata_key)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a str or None, got {value!r}")
        stream = self._active()
        if self._seed_era and array_key is None and metadata_key is None:
            return stream.write_custom_metadata(metadata, bool(overwrite))
        stream.write_attributes(array_key, metadata_key, metadata)
        return True

    def get_current_memory_usage(self) -> int:
        """Bytes of memory the stream holds now (buffers, staging, pools)."""
        return int(self._active().current_memory_usage())

    def is_active(self) -> bool:
        """True until close()."""
        return self._stream is not None and self._stream.is_active()

    def close(self) -> None:
        """Flushes everything, writes final metadata, makes the data durable.

        Idempotent. Raises if any data or metadata could not be written.
        """
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def _active(self) -> Any:
        if self._stream is None:
            raise ZarrError("the stream is closed")
        return self._stream

    def __enter__(self) -> "ZarrStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None:
            self._stream = None
            try:
                stream.close()
            except Exception:
                pass  # the library logged it; a destructor must not raise


def set_log_level(level: LogLevel) -> None:
    """Sets the library's log threshold (default INFO); logs go to stderr."""
    _core.set_log_level(int(_enum(LogLevel, "level", level, error=InvalidArgumentError)))


def get_log_level() -> LogLevel:
    """The library's current log threshold."""
    return LogLevel(_core.get_log_level())
