"""StreamSettings to the plain dicts the binding turns into the C structs.

The binding reads only plain values (str, int, bool, None, lists, dicts), so
every check of Python types, every name-to-index resolution and the
``ZARR_MAX_THREADS`` default happen here, once, when a stream is created or
the settings are asked for their keys or memory bound.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from ._arrays import Acquisition, ArraySettings, FieldOfView, Plate, Well
from ._errors import InvalidSettingsError
from ._types import CompressionSettings, Dimension, S3Settings, _check_items

Plan = Dict[str, Any]


def resolved_max_threads(max_threads: int) -> int:
    """0: ``ZARR_MAX_THREADS`` if set (as acquire-zarr does), else 0, which
    the library takes as one thread per core."""
    if max_threads != 0:
        return max_threads
    text = os.environ.get("ZARR_MAX_THREADS", "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0 or value >= 1 << 32:
        raise InvalidSettingsError(
            f"ZARR_MAX_THREADS is {text!r}: must be a non-negative integer "
            "(it sets the thread count when StreamSettings.max_threads is 0)")
    return value


def _compression(c: Optional[CompressionSettings]) -> Optional[Plan]:
    if c is None:
        return None
    return {"compressor": int(c.compressor), "codec": int(c.codec),
            "level": c.level, "shuffle": c.shuffle}


def _dimensions(field: str, dims: List[Any]) -> List[Plan]:
    _check_items(field, dims, Dimension)
    return [{"name": d.name, "type": int(d.kind), "array_size_px": d.array_size_px,
             "chunk_size_px": d.chunk_size_px, "shard_size_chunks": d.shard_size_chunks,
             "unit": d.unit, "scale": d.scale} for d in dims]


def storage_order_indices(field: str, order: Optional[List[Any]],
                          dims: List[Dimension]) -> Optional[List[int]]:
    """Dimension names (or indices) to indices into ``dims``. The library
    checks that they form a permutation it can store; here only that each
    one names a dimension and that there is one per dimension (the C field
    is read as exactly ``dimension_count`` entries)."""
    if order is None:
        return None
    names = [d.name for d in dims]
    if len(order) != len(dims):
        raise InvalidSettingsError(
            f"{field} is {order!r}: it must list each of the {len(dims)} dimensions "
            f"{names!r} once")
    out = []
    for i, item in enumerate(order):
        if isinstance(item, str):
            if item not in names:
                raise InvalidSettingsError(
                    f"{field}[{i}] is {item!r}: not a dimension name (dimensions: {names!r})")
            out.append(names.index(item))
        elif 0 <= item < len(dims):
            out.append(item)
        else:
            raise InvalidSettingsError(
                f"{field}[{i}] is {item}: not a dimension index (0..{len(dims) - 1})")
    return out


def array_plan(field: str, a: ArraySettings) -> Plan:
    return {
        "output_key": a.output_key or "",
        "compression": _compression(a.compression),
        "dimensions": _dimensions(f"{field}.dimensions", a.dimensions),
        "data_type": int(a.data_type),
        "multiscale": a.downsampling_method is not None,
        "downsampling_method": int(a.downsampling_method or 0),
        "max_levels": a.max_levels,
        "storage_dimension_order": storage_order_indices(
            f"{field}.storage_dimension_order", a.storage_dimension_order, a.dimensions),
        "is_ngff": a.is_ngff,
    }


def _fov_plan(field: str, f: FieldOfView) -> Plan:
    if f.array_settings.output_key:
        raise InvalidSettingsError(
            f"{field}.array_settings.output_key is {f.array_settings.output_key!r}: "
            "must be None for a field of view (its key is plate/row/column/path)")
    return {"path": f.path, "acquisition_id": f.acquisition_id,
            "array": array_plan(f"{field}.array_settings", f.array_settings)}


def _well_plan(field: str, w: Well) -> Plan:
    _check_items(f"{field}.images", w.images, FieldOfView)
    return {"row_name": w.row_name, "column_name": w.column_name,
            "images": [_fov_plan(f"{field}.images[{i}]", f) for i, f in enumerate(w.images)]}


def _acquisition_plan(a: Acquisition) -> Plan:
    return {"id": a.id, "name": a.name, "description": a.description,
            "start_time": a.start_time, "end_time": a.end_time}


def _plate_plan(field: str, p: Plate) -> Plan:
    for name in ("row_names", "column_names"):
        _check_items(f"{field}.{name}", getattr(p, name), str)
    _check_items(f"{field}.wells", p.wells, Well)
    _check_items(f"{field}.acquisitions", p.acquisitions, Acquisition)
    return {"path": p.path, "name": p.name, "row_names": list(p.row_names),
            "column_names": list(p.column_names),
            "wells": [_well_plan(f"{field}.wells[{i}]", w) for i, w in enumerate(p.wells)],
            "acquisitions": [_acquisition_plan(a) for a in p.acquisitions]}


def _s3(s3: Optional[S3Settings]) -> Optional[Plan]:
    if s3 is None:
        return None
    return {"endpoint": s3.endpoint, "bucket_name": s3.bucket_name, "region": s3.region,
            "virtual_host": s3.addressing_style == "virtual"}


def stream_plan(s: Any) -> Plan:
    """Everything ``_core`` needs from a StreamSettings."""
    _check_items("StreamSettings.arrays", s.arrays, ArraySettings)
    _check_items("StreamSettings.hcs_plates", s.hcs_plates, Plate)
    return {
        "store_path": s.store_path,
        "s3": _s3(s.s3),
        "compression": _compression(s.compression),
        "dimensions": _dimensions("dimensions", s.dimensions),
        "multiscale": s.multiscale,
        "data_type": int(s.data_type),
        "version": int(s.version),
        "max_threads": resolved_max_threads(s.max_threads),
        "downsampling_method": int(s.downsampling_method),
        "output_key": s.output_key,
        "overwrite": s.overwrite,
        "custom_metadata": s.custom_metadata or None,
        "max_levels": s.max_levels,
        "storage_dimension_order": storage_order_indices(
            "storage_dimension_order", s.storage_dimension_order, s.dimensions),
        "arrays": [array_plan(f"arrays[{i}]", a) for i, a in enumerate(s.arrays)],
        "plates": [_plate_plan(f"hcs_plates[{i}]", p) for i, p in enumerate(s.hcs_plates)],
    }
