"""Type stubs for acquire_zarr: stream frames into Zarr v2/v3 stores."""

import enum
from typing import Any, Iterable, Optional, Union

import numpy as np
import numpy.typing as npt

__version__: str

class DataType(enum.IntEnum):
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

class Dimension:
    """One dimension, slowest to fastest. The first is the append dimension
    (array_size_px=0: unbounded); the last two are the frame's height and
    width. ``type`` is an alias of ``kind``."""

    name: str
    kind: DimensionType
    type: DimensionType
    array_size_px: int
    chunk_size_px: int
    shard_size_chunks: int
    unit: Optional[str]
    scale: float
    def __init__(
        self,
        name: str = "",
        kind: DimensionType = ...,
        array_size_px: int = 0,
        chunk_size_px: int = 0,
        shard_size_chunks: int = 0,
        unit: Optional[str] = None,
        scale: float = 1.0,
        *,
        type: DimensionType = ...,
    ) -> None: ...

class CompressionSettings:
    """Chunk compression: Blosc1 with LZ4 or Zstd (level 0-9, shuffle 0/1/2),
    or Zstd alone (compressor and codec ZSTD, level 0-22 with 0 zstd's
    default 3, shuffle 0)."""

    compressor: Compressor
    codec: CompressionCodec
    level: int
    shuffle: int
    def __init__(
        self,
        compressor: Compressor = ...,
        codec: CompressionCodec = ...,
        level: int = 1,
        shuffle: int = 0,
    ) -> None: ...

class S3Settings:
    endpoint: str
    bucket_name: str
    region: Optional[str]
    def __init__(self, endpoint: str = "", bucket_name: str = "", region: Optional[str] = None) -> None: ...

class StreamSettings:
    """Everything a ZarrStream needs; ``dimensions`` is a live list."""

    store_path: str
    s3: Optional[S3Settings]
    compression: Optional[CompressionSettings]
    dimensions: list[Dimension]
    multiscale: bool
    data_type: DataType
    version: ZarrVersion
    max_threads: int
    custom_metadata: Optional[str]
    downsampling_method: DownsamplingMethod
    output_key: str
    overwrite: bool
    def __init__(
        self,
        store_path: str = "",
        s3: Optional[S3Settings] = None,
        compression: Optional[CompressionSettings] = None,
        dimensions: Optional[Iterable[Dimension]] = None,
        multiscale: bool = False,
        data_type: Union[DataType, npt.DTypeLike] = ...,
        version: ZarrVersion = ...,
        max_threads: Optional[int] = None,
        custom_metadata: Optional[str] = None,
        downsampling_method: DownsamplingMethod = ...,
        output_key: str = "",
        overwrite: bool = False,
    ) -> None: ...

class ZarrStream:
    """A stream of frames into a Zarr store. Raises ValueError for invalid
    settings, OSError or RuntimeError for storage failures, and RuntimeError
    for a call other than close() once the stream is closed."""

    def __init__(self, settings: StreamSettings) -> None: ...
    def append(self, data: Union[npt.ArrayLike, bytes, bytearray, memoryview]) -> None:
        """Appends pixels in C order: a partial frame, a frame or many frames."""
    def write_custom_metadata(self, custom_metadata: str, overwrite: bool = False) -> bool:
        """Writes acquire.json; False if one exists and overwrite is False."""
    def is_active(self) -> bool: ...
    def close(self) -> None:
        """Flushes, writes final metadata, syncs. Idempotent; raises on failure."""
    def __enter__(self) -> ZarrStream: ...
    def __exit__(self, *exc_info: Any) -> None: ...

def set_log_level(level: LogLevel) -> None: ...
def get_log_level() -> LogLevel: ...
