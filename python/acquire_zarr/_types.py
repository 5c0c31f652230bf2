"""Enums, value checks and the settings classes shared by both generations of
the API: Dimension, CompressionSettings, S3Settings."""

from __future__ import annotations

import enum
from typing import Any, Iterable, List, Optional

import numpy as np

from ._errors import InvalidSettingsError


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


def _enum(cls: type[enum.IntEnum], field: str, value: Any,
          error: type[ValueError] = InvalidSettingsError) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{field} must be a {cls.__name__}, got {value!r}")
    try:
        return cls(int(value))
    except ValueError:
        raise error(
            f"{field} is {value!r}: not a {cls.__name__} "
            f"({', '.join(f'{m.name}={m.value}' for m in cls)})"
        ) from None


def _uint(field: str, value: Any, bits: int = 32) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{field} must be an integer, got {value!r}")
    value = int(value)
    if value < 0 or value >= 1 << bits:
        raise InvalidSettingsError(f"{field} is {value}: must be in 0..{(1 << bits) - 1}")
    return value


def _optional_str(field: str, value: Any) -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{field} must be a string or None, got {value!r}")
    return value


def _optional_uint(field: str, value: Any, bits: int = 32) -> Optional[int]:
    return None if value is None else _uint(field, value, bits)


def _bool(field: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{field} must be a bool, got {value!r}")
    return bool(value)


def _string(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, got {value!r}")
    return value


def _live_list(field: str, value: Any) -> List[Any]:
    """The caller's list itself when given one, so that edits through either
    name stay visible; a copy of any other iterable."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{field} must be a list, got {value!r}")
    return value if isinstance(value, list) else list(value)


def _check_items(field: str, items: List[Any], cls: type) -> None:
    """Elements are checked when used, since a live list can change after it
    was assigned."""
    for i, item in enumerate(items):
        if not isinstance(item, cls):
            raise TypeError(f"{field}[{i}] must be {cls.__name__}, got {item!r}")


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
        raise InvalidSettingsError(
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
    """An S3-compatible object store: endpoint URL, bucket, optional region.
    ``addressing_style`` is "path" (``<endpoint>/<bucket>/<key>``, the
    default) or "virtual" (``<bucket>.<endpoint host>/<key>``, for endpoints
    that require it; docs/s3.md)."""

    _fields = ("endpoint", "bucket_name", "region", "addressing_style")

    def __init__(
        self,
        endpoint: str = "",
        bucket_name: str = "",
        region: Optional[str] = None,
        addressing_style: str = "path",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.bucket_name = bucket_name
        self.region = region
        self.addressing_style = addressing_style

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("endpoint", "bucket_name"):
            if not isinstance(value, str):
                raise TypeError(f"S3Settings.{name} must be a string, got {value!r}")
        elif name == "region":
            value = _optional_str("S3Settings.region", value)
        elif name == "addressing_style":
            if value not in ("path", "virtual"):
                raise ValueError(
                    f"S3Settings.addressing_style is {value!r}: expected 'path' or 'virtual'")
        else:
            raise AttributeError(f"S3Settings has no attribute {name!r}")
        object.__setattr__(self, name, value)
