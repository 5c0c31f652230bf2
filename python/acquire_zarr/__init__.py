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
"""

from __future__ import annotations

import enum
import json
import os
from typing import Any, Iterable, Optional

import numpy as np

from . import _core

__version__: str = _core.api_version()

__all__ = [
    "CompressionCodec",
    "CompressionSettings",
    "Compressor",
    "DataType",
    "Dimension",
    "DimensionType",
    "DownsamplingMethod",
    "LogLevel",
    "S3Settings",
    "StreamSettings",
    "ZarrStream",
    "ZarrVersion",
    "get_log_level",
    "set_log_level",
    "__version__",
]


class DataType(enum.IntEnum):
    """Pixel data type (values as in the C enum ZarrDataType)."""

    UINT8 = 0
    UINT16 = 1
    UINT32 = 2
    UINT64 = 3
    INT8 = 4
    INT16 = 5
    INT32 = 6
    INT64 = 7
    FLOAT32 = 8
    FLOAT64 = 9


class ZarrVersion(enum.IntEnum):
    """Zarr format version: V2 (OME-NGFF 0.4) or V3 (sharded, OME-NGFF 0.5)."""

    V2 = 2
    V3 = 3


class LogLevel(enum.IntEnum):
    DEBUG = 0
    INFO = 1
    WARNING = 2
    ERROR = 3
    NONE = 4


class Compressor(enum.IntEnum):
    NONE = 0
    BLOSC1 = 1
    ZSTD = 2


class CompressionCodec(enum.IntEnum):
    NONE = 0
    BLOSC_LZ4 = 1
    BLOSC_ZSTD = 2
    ZSTD = 3


class DimensionType(enum.IntEnum):
    SPACE = 0
    CHANNEL = 1
    TIME = 2
    OTHER = 3


class DownsamplingMethod(enum.IntEnum):
    DECIMATE = 0
    MEAN = 1
    MIN = 2
    MAX = 3


_DTYPES = {
    DataType.UINT8: np.dtype(np.uint8),
    DataType.UINT16: np.dtype(np.uint16),
    DataType.UINT32: np.dtype(np.uint32),
    DataType.UINT64: np.dtype(np.uint64),
    DataType.INT8: np.dtype(np.int8),
    DataType.INT16: np.dtype(np.int16),
    DataType.INT32: np.dtype(np.int32),
    DataType.INT64: np.dtype(np.int64),
    DataType.FLOAT32: np.dtype(np.float32),
    DataType.FLOAT64: np.dtype(np.float64),
}
_FROM_NUMPY = {dt.newbyteorder("="): member for member, dt in _DTYPES.items()}


def _enum(cls: type[enum.IntEnum], field: str, value: Any) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{field} must be a {cls.__name__}, got {value!r}")
    try:
        return cls(int(value))
    except ValueError:
        raise ValueError(
            f"{field} is {value!r}: not a {cls.__name__} "
            f"({', '.join(f'{m.name}={m.value}' for m in cls)})"
        ) from None


def _uint(field: str, value: Any, bits: int = 32) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{field} must be an integer, got {value!r}")
    value = int(value)
    if value < 0 or value >= 1 << bits:
        raise ValueError(f"{field} is {value}: must be in 0..{(1 << bits) - 1}")
    return value


def _optional_str(field: str, value: Any) -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{field} must be a string or None, got {value!r}")
    return value


def _data_type(value: Any) -> DataType:
    if isinstance(value, DataType):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return _enum(DataType, "data_type", value)
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise TypeError(
            f"data_type must be a DataType or a numpy dtype, got {value!r}"
        ) from None
    member = _FROM_NUMPY.get(dtype.newbyteorder("="))
    if member is None or not dtype.isnative:
        raise ValueError(
            f"data_type {value!r} ({dtype}) is not supported: use one of "
            + ", ".join(str(d) for d in _DTYPES.values())
        )
    return member


class _Settings:
    """Keyword construction, attribute checks and a readable repr."""

    _fields: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        unknown = set(kwargs) - set(self._fields)
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s) "
                f"{', '.join(sorted(unknown))}; valid: {', '.join(self._fields)}"
            )
        for name, value in kwargs.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]


class Dimension(_Settings):
    """One array dimension, listed slowest to fastest.

    The first dimension is the append dimension (``array_size_px=0``:
    unbounded); the last two are the frame's height and width.
    ``kind`` may also be given as ``type``.
    """

    _fields = ("name", "kind", "array_size_px", "chunk_size_px",
               "shard_size_chunks", "unit", "scale")

    def __init__(
        self,
        name: str = "",
        kind: DimensionType = DimensionType.SPACE,
        array_size_px: int = 0,
        chunk_size_px: int = 0,
        shard_size_chunks: int = 0,
        unit: Optional[str] = None,
        scale: float = 1.0,
        **kwargs: Any,
    ) -> None:
        if "type" in kwargs:
            if kind != DimensionType.SPACE and kind != kwargs["type"]:
                raise TypeError("Dimension() got both kind= and type=")
            kind = kwargs.pop("type")
        super().__init__(**kwargs)
        self.name = name
        self.kind = kind
        self.array_size_px = array_size_px
        self.chunk_size_px = chunk_size_px
        self.shard_size_chunks = shard_size_chunks
        self.unit = unit
        self.scale = scale

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "name" and not isinstance(value, str):
            raise TypeError(f"Dimension.name must be a string, got {value!r}")
        if name in ("kind", "type"):
            name, value = "kind", _enum(DimensionType, "Dimension.kind", value)
        elif name in ("array_size_px", "chunk_size_px", "shard_size_chunks"):
            value = _uint(f"Dimension.{name}", value)
        elif name == "unit":
            value = _optional_str("Dimension.unit", value)
        elif name == "scale":
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"Dimension.scale must be a number, got {value!r}")
            value = float(value)
        elif name not in self._fields:
            raise AttributeError(f"Dimension has no attribute {name!r}")
        object.__setattr__(self, name, value)

    @property
    def type(self) -> DimensionType:
        """Alias of ``kind``."""
        return self.kind

    @type.setter
    def type(self, value: DimensionType) -> None:
        self.kind = value


class CompressionSettings(_Settings):
    """Chunk compression: Blosc1 with LZ4 or Zstd (level 0-9, shuffle 0/1/2),
    or Zstd alone (compressor and codec ZSTD, level 0-22 with 0 zstd's
    default 3, shuffle 0)."""

    _fields = ("compressor", "codec", "level", "shuffle")

    def __init__(
        self,
        compressor: Compressor = Compressor.NONE,
        codec: CompressionCodec = CompressionCodec.NONE,
        level: int = 1,
        shuffle: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.compressor = compressor
        self.codec = codec
        self.level = level
        self.shuffle = shuffle

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "compressor":
            value = _enum(Compressor, "CompressionSettings.compressor", value)
        elif name == "codec":
            value = _enum(CompressionCodec, "CompressionSettings.codec", value)
        elif name in ("level", "shuffle"):
            value = _uint(f"CompressionSettings.{name}", value, bits=8)
        else:
            raise AttributeError(f"CompressionSettings has no attribute {name!r}")
        object.__setattr__(self, name, value)


class S3Settings(_Settings):
    """An S3-compatible object store: endpoint URL, bucket, optional region."""

    _fields = ("endpoint", "bucket_name", "region")

    def __init__(
        self,
        endpoint: str = "",
        bucket_name: str = "",
        region: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.bucket_name = bucket_name
        self.region = region

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("endpoint", "bucket_name"):
            if not isinstance(value, str):
                raise TypeError(f"S3Settings.{name} must be a string, got {value!r}")
        elif name == "region":
            value = _optional_str("S3Settings.region", value)
        else:
            raise AttributeError(f"S3Settings has no attribute {name!r}")
        object.__setattr__(self, name, value)


class StreamSettings(_Settings):
    """Everything a ZarrStream needs. ``dimensions`` is a live list."""

    _fields = ("store_path", "s3", "compression", "dimensions", "multiscale",
               "data_type", "version", "max_threads", "custom_metadata",
               "downsampling_method", "output_key", "overwrite")

    def __init__(
        self,
        store_path: str = "",
        s3: Optional[S3Settings] = None,
        compression: Optional[CompressionSettings] = None,
        dimensions: Optional[Iterable[Dimension]] = None,
        multiscale: bool = False,
        data_type: Any = DataType.UINT8,
        version: ZarrVersion = ZarrVersion.V3,
        max_threads: Optional[int] = None,
        custom_metadata: Optional[str] = None,
        downsampling_method: DownsamplingMethod = DownsamplingMethod.DECIMATE,
        output_key: str = "",
        overwrite: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store_path = store_path
        self.s3 = s3
        self.compression = compression
        self.dimensions = [] if dimensions is None else dimensions
        self.multiscale = multiscale
        self.data_type = data_type
        self.version = version
        self.max_threads = os.cpu_count() or 1 if max_threads is None else max_threads
        self.custom_metadata = custom_metadata
        self.downsampling_method = downsampling_method
        self.output_key = output_key
        self.overwrite = overwrite

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("store_path", "output_key"):
            if not isinstance(value, (str, os.PathLike)):
                raise TypeError(f"StreamSettings.{name} must be a string, got {value!r}")
            value = os.fspath(value)
        elif name == "s3":
            if value is not None and not isinstance(value, S3Settings):
                raise TypeError(f"StreamSettings.s3 must be S3Settings or None, got {value!r}")
        elif name == "compression":
            if value is not None and not isinstance(value, CompressionSettings):
                raise TypeError(
                    f"StreamSettings.compression must be CompressionSettings or None, got {value!r}"
                )
        elif name == "dimensions":
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise TypeError(f"StreamSettings.dimensions must be a list of Dimension, got {value!r}")
            # Keep the caller's list object when given one: edits stay visible.
            if not isinstance(value, list):
                value = list(value)
        elif name in ("multiscale", "overwrite"):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"StreamSettings.{name} must be a bool, got {value!r}")
            value = bool(value)
        elif name == "data_type":
            value = _data_type(value)
        elif name == "version":
            value = _enum(ZarrVersion, "StreamSettings.version", value)
        elif name == "downsampling_method":
            value = _enum(DownsamplingMethod, "StreamSettings.downsampling_method", value)
        elif name == "max_threads":
            value = _uint("StreamSettings.max_threads", value)
        elif name == "custom_metadata":
            value = _optional_str("StreamSettings.custom_metadata", value)
            if value:
                try:
                    parsed = json.loads(value)
                except ValueError as e:
                    raise ValueError(f"custom_metadata {value!r} is not valid JSON: {e}") from None
                if not isinstance(parsed, dict):
                    raise ValueError(f"custom_metadata {value!r} is not a JSON object")
                if "ome" in parsed:
                    raise ValueError(
                        "custom_metadata has the key 'ome', which OME-NGFF reserves; use another key"
                    )
        else:
            raise AttributeError(f"StreamSettings has no attribute {name!r}")
        object.__setattr__(self, name, value)


def _dimension_tuples(dimensions: list) -> list:
    out = []
    for i, d in enumerate(dimensions):
        if not isinstance(d, Dimension):
            raise TypeError(f"dimensions[{i}] must be a Dimension, got {d!r}")
        out.append((d.name, int(d.kind), d.array_size_px, d.chunk_size_px,
                    d.shard_size_chunks, d.unit, d.scale))
    return out


class ZarrStream:
    """A stream of frames into a Zarr store.

    Raises ValueError for invalid settings (the message names the field and
    value), OSError or RuntimeError for storage failures, and RuntimeError
    for a call other than close() once the stream is closed. Use as a context
    manager or call close(); close() raises if any data could not be written.
    """

    def __init__(self, settings: StreamSettings) -> None:
        if not isinstance(settings, StreamSettings):
            raise TypeError(f"ZarrStream() needs a StreamSettings, got {settings!r}")
        s = settings
        self._dtype = _DTYPES[s.data_type]
        self._stream = None
        compression = None
        if s.compression is not None:
            c = s.compression
            compression = (int(c.compressor), int(c.codec), c.level, c.shuffle)
        s3 = None
        if s.s3 is not None:
            s3 = (s.s3.endpoint, s.s3.bucket_name, s.s3.region)
        self._stream = _core.Stream(
            s.store_path, s3, compression, _dimension_tuples(s.dimensions),
            s.multiscale, int(s.data_type), int(s.version), s.max_threads,
            int(s.downsampling_method), s.output_key, s.overwrite,
            s.custom_metadata or None,
        )

    def append(self, data: Any) -> None:
        """Appends pixels in C order: a partial frame, a frame or many frames.

        numpy arrays must have the stream's data type (else TypeError);
        non-contiguous arrays are written in logical (C) order. Raw bytes,
        bytearray and byte memoryviews are appended as they are. Raises
        ValueError when a bounded array is full (nothing beyond it is
        written) and OSError/RuntimeError when a background write failed.
        """
        stream = self._active()
        if isinstance(data, (bytes, bytearray)):
            stream.append(data)
            return
        if isinstance(data, memoryview) and data.format in ("B", "b", "c") \
                and data.c_contiguous:
            stream.append(data)
            return
        array = np.asarray(data)
        if array.dtype != self._dtype:
            raise TypeError(
                f"append() got an array of dtype {array.dtype}, but the stream "
                f"writes {self._dtype} (StreamSettings.data_type)"
            )
        if array.size == 0:
            return
        stream.append(np.ascontiguousarray(array))

    def write_custom_metadata(self, custom_metadata: str, overwrite: bool = False) -> bool:
        """Writes a JSON object to acquire.json at the store root.

        Returns False (and keeps the existing document) when one exists and
        overwrite is False. Raises ValueError if the text is not a JSON object.
        """
        if not isinstance(custom_metadata, str):
            raise TypeError(f"custom_metadata must be a str, got {custom_metadata!r}")
        return self._active().write_custom_metadata(custom_metadata, bool(overwrite))

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
            raise RuntimeError("the stream is closed")
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
    _core.set_log_level(int(_enum(LogLevel, "level", level)))


def get_log_level() -> LogLevel:
    """The library's current log threshold."""
    return LogLevel(_core.get_log_level())
