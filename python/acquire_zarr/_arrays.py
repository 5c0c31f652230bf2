"""The settings of the current API (acquire-zarr 0.5 and later): one
ArraySettings per array of a stream, and HCS plates made of wells, fields of
view and acquisitions."""

from __future__ import annotations

import os
from typing import Any, Iterable, List, Optional

from ._types import (
    CompressionSettings,
    DataType,
    Dimension,
    DownsamplingMethod,
    _Settings,
    _bool,
    _data_type,
    _enum,
    _live_list,
    _optional_str,
    _optional_uint,
    _string,
    _uint,
)


class ArraySettings(_Settings):
    """One array of a stream, at ``output_key`` (None or "": the store root).

    What lands there: a plain array when neither ``downsampling_method`` nor
    ``is_ngff`` is set; an OME-NGFF image group holding the one level ``0``
    with ``is_ngff=True``; an OME-NGFF image group with a pyramid
    ``0..n`` when ``downsampling_method`` is set (at most ``max_levels``
    downsampled levels; 0: no cap). ``is_ngff`` reads True while a
    downsampling method is set; clearing the method restores the value last
    given to ``is_ngff``.

    ``storage_dimension_order`` lists the dimension names in the order the
    stored array has them (None: acquisition order); frames are transposed
    on the way in. ``dimensions`` is a live list.
    """

    _fields = ("output_key", "dimensions", "data_type", "compression",
               "downsampling_method", "max_levels", "storage_dimension_order",
               "is_ngff")

    def __init__(
        self,
        output_key: Optional[str] = None,
        dimensions: Optional[Iterable[Dimension]] = None,
        data_type: Any = DataType.UINT8,
        compression: Optional[CompressionSettings] = None,
        downsampling_method: Optional[DownsamplingMethod] = None,
        max_levels: int = 0,
        storage_dimension_order: Optional[Iterable[str]] = None,
        is_ngff: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.output_key = output_key
        self.dimensions = [] if dimensions is None else dimensions
        self.data_type = data_type
        self.compression = compression
        self.downsampling_method = downsampling_method
        self.max_levels = max_levels
        self.storage_dimension_order = storage_dimension_order
        self.is_ngff = is_ngff

    def __setattr__(self, name: str, value: Any) -> None:
        field = f"ArraySettings.{name}"
        if name == "output_key":
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise TypeError(f"{field} must be a string or None, got {value!r}")
            value = None if value is None else os.fspath(value)
        elif name == "dimensions":
            value = _live_list(field, value)
        elif name == "data_type":
            value = _data_type(value)
        elif name == "compression":
            if value is not None and not isinstance(value, CompressionSettings):
                raise TypeError(f"{field} must be CompressionSettings or None, got {value!r}")
        elif name == "downsampling_method":
            if value is not None:
                value = _enum(DownsamplingMethod, field, value)
        elif name == "max_levels":
            value = _uint(field, value)
        elif name == "storage_dimension_order":
            value = _storage_order(field, value)
        elif name == "is_ngff":
            name, value = "_is_ngff", _bool(field, value)
        else:
            raise AttributeError(f"ArraySettings has no attribute {name!r}")
        object.__setattr__(self, name, value)

    @property
    def is_ngff(self) -> bool:
        """True when the array is an OME-NGFF image group."""
        return self._is_ngff or self.downsampling_method is not None

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return super().__eq__(other) and self._is_ngff == other._is_ngff


def _storage_order(field: str, value: Any) -> Optional[List[Any]]:
    """Dimension names (indices are accepted too); resolved against the
    dimensions when the stream is created, since both may still change."""
    if value is None:
        return None
    order = _live_list(field, value)
    for i, item in enumerate(order):
        if not isinstance(item, str) and (isinstance(item, bool) or not isinstance(item, int)):
            raise TypeError(f"{field}[{i}] must be a dimension name, got {item!r}")
    return list(order) if order else None


class FieldOfView(_Settings):
    """One field of view of a well: an OME-NGFF image group at
    ``<plate>/<row>/<column>/<path>``, which is also its array key.
    ``array_settings.output_key`` must be None (the path says where it goes);
    the image is NGFF whatever ``is_ngff`` says."""

    _fields = ("path", "acquisition_id", "array_settings")

    def __init__(
        self,
        path: str = "",
        acquisition_id: Optional[int] = None,
        array_settings: Optional[ArraySettings] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.acquisition_id = acquisition_id
        self.array_settings = ArraySettings() if array_settings is None else array_settings

    def __setattr__(self, name: str, value: Any) -> None:
        field = f"FieldOfView.{name}"
        if name == "path":
            value = _string(field, value)
        elif name == "acquisition_id":
            value = _optional_uint(field, value)
        elif name == "array_settings":
            if not isinstance(value, ArraySettings):
                raise TypeError(f"{field} must be ArraySettings, got {value!r}")
        else:
            raise AttributeError(f"FieldOfView has no attribute {name!r}")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        # The array settings are left out, as acquire-zarr does: a plate's
        # repr would otherwise repeat every field of every image.
        return f"FieldOfView(path={self.path!r}, acquisition_id={self.acquisition_id!r})"


class Well(_Settings):
    """One well of a plate, at ``<plate>/<row_name>/<column_name>``, holding
    fields of view (``images``, a live list)."""

    _fields = ("row_name", "column_name", "images")

    def __init__(
        self,
        row_name: str = "",
        column_name: str = "",
        images: Optional[Iterable[FieldOfView]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.row_name = row_name
        self.column_name = column_name
        self.images = [] if images is None else images

    def __setattr__(self, name: str, value: Any) -> None:
        field = f"Well.{name}"
        if name in ("row_name", "column_name"):
            value = _string(field, value)
        elif name == "images":
            value = _live_list(field, value)
        else:
            raise AttributeError(f"Well has no attribute {name!r}")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (f"Well(row_name={self.row_name!r}, column_name={self.column_name!r}, "
                f"images={len(self.images)})")


class Acquisition(_Settings):
    """One acquisition of a plate: an id fields of view refer to, and
    optional name, description and start/end times (64-bit epoch values, in
    the unit the caller chooses)."""

    _fields = ("id", "name", "description", "start_time", "end_time")

    def __init__(
        self,
        id: int = 0,  # noqa: A002 - the name acquire-zarr and OME-NGFF use
        name: Optional[str] = None,
        description: Optional[str] = None,
        start_time: Optional[int] = None,
        end_time: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.id = id
        self.name = name
        self.description = description
        self.start_time = start_time
        self.end_time = end_time

    def __setattr__(self, name: str, value: Any) -> None:
        field = f"Acquisition.{name}"
        if name == "id":
            value = _uint(field, value)
        elif name in ("name", "description"):
            value = _optional_str(field, value)
        elif name in ("start_time", "end_time"):
            value = _optional_uint(field, value, bits=64)
        else:
            raise AttributeError(f"Acquisition has no attribute {name!r}")
        object.__setattr__(self, name, value)


class Plate(_Settings):
    """An OME-NGFF high-content-screening plate at ``path``: its rows and
    columns by name (alphanumeric, unique), its wells and acquisitions. Every
    list is live."""

    _fields = ("path", "name", "row_names", "column_names", "wells", "acquisitions")

    def __init__(
        self,
        path: str = "",
        name: Optional[str] = None,
        row_names: Optional[Iterable[str]] = None,
        column_names: Optional[Iterable[str]] = None,
        wells: Optional[Iterable[Well]] = None,
        acquisitions: Optional[Iterable[Acquisition]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.name = name
        self.row_names = [] if row_names is None else row_names
        self.column_names = [] if column_names is None else column_names
        self.wells = [] if wells is None else wells
        self.acquisitions = [] if acquisitions is None else acquisitions

    def __setattr__(self, name: str, value: Any) -> None:
        field = f"Plate.{name}"
        if name == "path":
            value = _string(field, value)
        elif name == "name":
            value = _optional_str(field, value)
        elif name in ("row_names", "column_names", "wells", "acquisitions"):
            value = _live_list(field, value)
        else:
            raise AttributeError(f"Plate has no attribute {name!r}")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (f"Plate(path={self.path!r}, name={self.name!r}, "
                f"row_names={self.row_names!r}, column_names={self.column_names!r}, "
                f"wells={len(self.wells)}, acquisitions={len(self.acquisitions)})")
