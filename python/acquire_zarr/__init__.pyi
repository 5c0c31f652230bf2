"""Type stubs for acquire_zarr: stream frames into Zarr v2/v3 stores."""

import enum
import os
from typing import Any, Dict, Iterable, List, Optional, Union

import numpy as np
import numpy.typing as npt

__version__: str

class ZarrError(RuntimeError):
    """Any failure reported by the library."""

class InvalidSettingsError(ValueError, ZarrError): ...
class InvalidArgumentError(ValueError, ZarrError): ...
class OverflowWriteError(ValueError, ZarrError): ...
class ArrayKeyError(KeyError, ZarrError): ...
class StorageError(OSError, ZarrError): ...
class WillNotOverwriteError(FileExistsError, ZarrError): ...
class NotYetImplementedError(NotImplementedError, ZarrError): ...
class ZarrMemoryError(MemoryError, ZarrError): ...

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
    addressing_style: str  # "path" or "virtual"
    def __init__(self, endpoint: str = "", bucket_name: str = "", region: Optional[str] = None,
                 addressing_style: str = "path") -> None: ...

class ArraySettings:
    """One array of a stream, at ``output_key`` (None or "": the store root):
    a plain array; with ``is_ngff`` an OME-NGFF image group of one level;
    with ``downsampling_method`` an image group with a pyramid (at most
    ``max_levels`` downsampled levels, 0: no cap). ``storage_dimension_order``
    names the dimensions in stored order. ``dimensions`` is a live list."""

    output_key: Optional[str]
    dimensions: List[Dimension]
    data_type: DataType
    compression: Optional[CompressionSettings]
    downsampling_method: Optional[DownsamplingMethod]
    max_levels: int
    storage_dimension_order: Optional[List[str]]
    is_ngff: bool
    def __init__(
        self,
        output_key: Optional[str] = None,
        dimensions: Optional[Iterable[Dimension]] = None,
        data_type: Union[DataType, npt.DTypeLike] = ...,
        compression: Optional[CompressionSettings] = None,
        downsampling_method: Optional[DownsamplingMethod] = None,
        max_levels: int = 0,
        storage_dimension_order: Optional[Iterable[str]] = None,
        is_ngff: bool = False,
    ) -> None: ...

class FieldOfView:
    """An image group at <plate>/<row>/<column>/<path>, also its array key."""

    path: str
    acquisition_id: Optional[int]
    array_settings: ArraySettings
    def __init__(
        self,
        path: str = "",
        acquisition_id: Optional[int] = None,
        array_settings: Optional[ArraySettings] = None,
    ) -> None: ...

class Well:
    row_name: str
    column_name: str
    images: List[FieldOfView]
    def __init__(
        self,
        row_name: str = "",
        column_name: str = "",
        images: Optional[Iterable[FieldOfView]] = None,
    ) -> None: ...

class Acquisition:
    """Times are 64-bit epoch values in the unit the caller chooses."""

    id: int
    name: Optional[str]
    description: Optional[str]
    start_time: Optional[int]
    end_time: Optional[int]
    def __init__(
        self,
        id: int = 0,
        name: Optional[str] = None,
        description: Optional[str] = None,
        start_time: Optional[int] = None,
        end_time: Optional[int] = None,
    ) -> None: ...

class Plate:
    path: str
    name: Optional[str]
    row_names: List[str]
    column_names: List[str]
    wells: List[Well]
    acquisitions: List[Acquisition]
    def __init__(
        self,
        path: str = "",
        name: Optional[str] = None,
        row_names: Optional[Iterable[str]] = None,
        column_names: Optional[Iterable[str]] = None,
        wells: Optional[Iterable[Well]] = None,
        acquisitions: Optional[Iterable[Acquisition]] = None,
    ) -> None: ...

class StreamSettings:
    """Everything a ZarrStream needs: the seed-era single array
    (``dimensions``..., with ``max_levels`` and ``storage_dimension_order``
    as extensions) or ``arrays``/``hcs_plates`` (alias ``plates``).
    ``max_threads=0``: ZARR_MAX_THREADS if set, else one per core. Every
    list is live."""

    store_path: str
    s3: Optional[S3Settings]
    compression: Optional[CompressionSettings]
    dimensions: List[Dimension]
    multiscale: bool
    data_type: DataType
    version: ZarrVersion
    max_threads: int
    custom_metadata: Optional[str]
    downsampling_method: DownsamplingMethod
    output_key: str
    overwrite: bool
    arrays: List[ArraySettings]
    hcs_plates: List[Plate]
    plates: List[Plate]
    max_levels: int
    storage_dimension_order: Optional[List[str]]
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
        arrays: Optional[Iterable[ArraySettings]] = None,
        hcs_plates: Optional[Iterable[Plate]] = None,
        max_levels: int = 0,
        storage_dimension_order: Optional[Iterable[str]] = None,
        *,
        plates: Optional[Iterable[Plate]] = None,
    ) -> None: ...
    def get_array_keys(self) -> List[str]: ...
    def get_maximum_memory_usage(self) -> int: ...
    @staticmethod
    def from_file(path: Union[str, os.PathLike[str]]) -> StreamSettings: ...
    @staticmethod
    def from_string(text: str) -> StreamSettings: ...
    @staticmethod
    def from_dict(data: Dict[str, Any]) -> StreamSettings: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self) -> str: ...
    def to_yaml(self) -> str: ...
    def to_file(self, path: Union[str, os.PathLike[str]]) -> None: ...

class ZarrStream:
    """A stream of frames into a Zarr store. Every library error is a
    ZarrError (a RuntimeError) and a precise type: InvalidSettingsError
    (ValueError), StorageError (OSError), ArrayKeyError (KeyError)..."""

    def __init__(self, settings: StreamSettings) -> None: ...
    def append(
        self,
        data: Union[npt.ArrayLike, bytes, bytearray, memoryview],
        key: Optional[str] = None,
    ) -> None:
        """Appends pixels in C order to the array at ``key`` (None: the only array)."""
    def skip(self, n_bytes: int, key: Optional[str] = None) -> None:
        """Appends ``n_bytes`` zero bytes without a buffer."""
    def write_custom_metadata(
        self,
        metadata: Union[str, Dict[str, Any]],
        overwrite: bool = False,
        *,
        array_key: Optional[str] = None,
        metadata_key: Optional[str] = None,
    ) -> bool:
        """Attributes of ``array_key``'s node (streams built from arrays, or
        with a keyword); acquire.json on a seed-era stream (False if one
        exists and overwrite is False)."""
    def get_current_memory_usage(self) -> int: ...
    def is_active(self) -> bool: ...
    def close(self) -> None:
        """Flushes, writes final metadata, syncs. Idempotent; raises on failure."""
    def __enter__(self) -> ZarrStream: ...
    def __exit__(self, *exc_info: Any) -> None: ...

def set_log_level(level: LogLevel) -> None: ...
def get_log_level() -> LogLevel: ...
