"""StreamSettings: everything a ZarrStream needs, in either generation of the
API, and its config files."""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, List, Optional

import numpy as np

from ._arrays import ArraySettings, Plate, _storage_order
from ._errors import InvalidSettingsError
from ._types import (
    CompressionSettings,
    DataType,
    Dimension,
    DownsamplingMethod,
    S3Settings,
    ZarrVersion,
    _Settings,
    _data_type,
    _enum,
    _live_list,
    _optional_str,
    _uint,
)


class StreamSettings(_Settings):
    """Everything a ZarrStream needs, in either generation of the API.

    A stream is built either from one array described by the seed-era fields
    (``dimensions``, ``data_type``, ``compression``, ``multiscale``,
    ``downsampling_method``, ``output_key``, and as extensions ``max_levels``
    and ``storage_dimension_order``, as in ArraySettings), or from ``arrays`` and/or
    ``hcs_plates`` (the current API; ``plates`` is an alias), never both.
    ``store_path``, ``s3``, ``version``, ``max_threads``, ``overwrite`` and
    ``custom_metadata`` apply to both. ``max_threads=0`` means the
    ``ZARR_MAX_THREADS`` environment variable if set, else one thread per
    core. Every list is live: edits through it change the settings.

    Config files (YAML or JSON, the schema acquire-zarr uses plus our fields)
    go through ``from_file``/``to_file`` and their string and dict forms;
    YAML needs PyYAML, a dependency of the package.
    """

    _fields = ("store_path", "s3", "compression", "dimensions", "multiscale",
               "data_type", "version", "max_threads", "custom_metadata",
               "downsampling_method", "output_key", "overwrite", "arrays",
               "hcs_plates", "max_levels", "storage_dimension_order")

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
        arrays: Optional[Iterable[ArraySettings]] = None,
        hcs_plates: Optional[Iterable[Plate]] = None,
        max_levels: int = 0,
        storage_dimension_order: Optional[Iterable[str]] = None,
        **kwargs: Any,
    ) -> None:
        if "plates" in kwargs:
            if hcs_plates is not None:
                raise TypeError("StreamSettings() got both hcs_plates= and plates=")
            hcs_plates = kwargs.pop("plates")
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
        self.arrays = [] if arrays is None else arrays
        self.hcs_plates = [] if hcs_plates is None else hcs_plates
        self.max_levels = max_levels
        self.storage_dimension_order = storage_dimension_order

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
        elif name in ("dimensions", "arrays", "hcs_plates"):
            value = _live_list(f"StreamSettings.{name}", value)
        elif name == "plates":
            name, value = "hcs_plates", _live_list("StreamSettings.plates", value)
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
        elif name in ("max_threads", "max_levels"):
            value = _uint(f"StreamSettings.{name}", value)
        elif name == "storage_dimension_order":
            value = _storage_order("StreamSettings.storage_dimension_order", value)
        elif name == "custom_metadata":
            value = _optional_str("StreamSettings.custom_metadata", value)
            if value:
                try:
                    parsed = json.loads(value)
                except ValueError as e:
                    raise InvalidSettingsError(
                        f"custom_metadata {value!r} is not valid JSON: {e}") from None
                if not isinstance(parsed, dict):
                    raise InvalidSettingsError(f"custom_metadata {value!r} is not a JSON object")
                if "ome" in parsed:
                    raise InvalidSettingsError(
                        "custom_metadata has the key 'ome', which OME-NGFF reserves; use another key"
                    )
        else:
            raise AttributeError(f"StreamSettings has no attribute {name!r}")
        object.__setattr__(self, name, value)

    @property
    def plates(self) -> List[Plate]:
        """Alias of ``hcs_plates``."""
        return self.hcs_plates

    @plates.setter
    def plates(self, value: Iterable[Plate]) -> None:
        self.hcs_plates = value

    def get_array_keys(self) -> List[str]:
        """The key of every array the stream would write: a flat array's
        ``output_key`` ("" for the store root), ``plate/row/column/fov`` for
        a field of view, the seed-era array's ``output_key``."""
        from . import _core, _plan

        return list(_core.array_keys(_plan.stream_plan(self)))

    def get_maximum_memory_usage(self) -> int:
        """An upper bound, in bytes, of the memory a stream with these
        settings holds."""
        from . import _core, _plan

        return int(_core.estimate_max_memory_usage(_plan.stream_plan(self)))

    @staticmethod
    def from_file(path: "str | os.PathLike[str]") -> "StreamSettings":
        """Settings from a YAML or JSON config file (told apart by content;
        a ``.json`` file must be JSON)."""
        from . import _config

        return _config.from_file(path)

    @staticmethod
    def from_string(text: str) -> "StreamSettings":
        """Settings from YAML or JSON text."""
        from . import _config

        return _config.from_string(text)

    @staticmethod
    def from_dict(data: dict) -> "StreamSettings":
        """Settings from a dict of the config schema (what ``to_dict`` gives)."""
        from . import _config

        return _config.from_dict(data)

    def to_dict(self) -> dict:
        """The settings as a dict of the config schema: plain str, int,
        float, bool, list and dict values, fields at their defaults left
        out where acquire-zarr leaves them out."""
        from . import _config

        return _config.to_dict(self)

    def to_json(self) -> str:
        """The settings as a JSON config document."""
        from . import _config

        return _config.to_json(self)

    def to_yaml(self) -> str:
        """The settings as a YAML config document (needs PyYAML)."""
        from . import _config

        return _config.to_yaml(self)

    def to_file(self, path: "str | os.PathLike[str]") -> None:
        """Writes a config file: JSON for a ``.json`` path, else YAML."""
        from . import _config

        _config.to_file(self, path)
