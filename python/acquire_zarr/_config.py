"""Config files: StreamSettings to and from plain dicts, JSON and YAML.

The schema is acquire-zarr's (``version`` is the schema version, 2; keys
``store_path``, ``s3``, ``max_threads``, ``overwrite``, ``arrays``, ``plates``;
enum values as lower-case names such as ``uint16``, ``blosc-lz4``, ``mean``,
``none``), so files either library writes for streams built from arrays
load in the other. Our additions: ``zarr_version`` (2 or 3),
``custom_metadata`` and the seed-era single-array fields (``dimensions``,
``data_type``, ``compression``, ``multiscale``, ``downsampling_method``,
``output_key``), written only when the settings use them. Reading refuses
unknown keys, naming where they are: a typo must not pass silently.

YAML needs PyYAML, imported only when YAML is read or written.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from ._arrays import Acquisition, ArraySettings, FieldOfView, Plate, Well
from ._errors import InvalidSettingsError
from ._plan import storage_order_indices
from ._stream_settings import StreamSettings
from ._types import (
    CompressionCodec,
    CompressionSettings,
    Compressor,
    DataType,
    Dimension,
    DimensionType,
    DownsamplingMethod,
    S3Settings,
    ZarrVersion,
    _check_items,
)

SCHEMA_VERSION = 2
_SCHEMA_VERSIONS = (1, 2)

_COMPRESSORS = {Compressor.NONE: "none", Compressor.BLOSC1: "blosc1", Compressor.ZSTD: "zstd"}
_CODECS = {CompressionCodec.NONE: "none", CompressionCodec.BLOSC_LZ4: "blosc-lz4",
           CompressionCodec.BLOSC_ZSTD: "blosc-zstd", CompressionCodec.ZSTD: "zstd"}


def _names(enum_cls: Any) -> Dict[Any, str]:
    return {m: m.name.lower() for m in enum_cls}


# ---- writing -----------------------------------------------------------


def _dimension_dict(d: Dimension) -> dict:
    # acquire-zarr writes a missing unit as "" and reads "" as none.
    return {"name": d.name, "type": d.kind.name.lower(), "array_size_px": d.array_size_px,
            "chunk_size_px": d.chunk_size_px, "shard_size_chunks": d.shard_size_chunks,
            "unit": d.unit or "", "scale": d.scale}


def _compression_dict(c: CompressionSettings) -> dict:
    return {"compressor": _COMPRESSORS[c.compressor], "codec": _CODECS[c.codec],
            "level": c.level, "shuffle": c.shuffle}


def _order_out(field: str, order: List[Any], dimensions: List[Dimension]) -> List[Any]:
    """Indices, as acquire-zarr writes them, when they resolve; the names as
    given otherwise, so that nothing is lost."""
    try:
        return storage_order_indices(field, order, dimensions)  # type: ignore[return-value]
    except InvalidSettingsError:
        return list(order)


def _order_in(order: Optional[List[Any]], dims: List[Dimension]) -> Optional[List[Any]]:
    """Indices (acquire-zarr's form) become the names they stand for."""
    if order is None:
        return None
    return [dims[i].name if isinstance(i, int) and not isinstance(i, bool)
            and 0 <= i < len(dims) else i for i in order]


def _array_dict(field: str, a: ArraySettings) -> dict:
    _check_items(f"{field}.dimensions", a.dimensions, Dimension)
    out: Dict[str, Any] = {}
    if a.output_key is not None:
        out["output_key"] = a.output_key
    out["data_type"] = a.data_type.name.lower()
    out["dimensions"] = [_dimension_dict(d) for d in a.dimensions]
    if a.compression is not None:
        out["compression"] = _compression_dict(a.compression)
    method = a.downsampling_method
    out["downsampling_method"] = "none" if method is None else method.name.lower()
    if a.max_levels:
        out["max_levels"] = a.max_levels
    if a.storage_dimension_order is not None:
        out["storage_dimension_order"] = _order_out(
            f"{field}.storage_dimension_order", a.storage_dimension_order, a.dimensions)
    # The value asked for, not the one a downsampling method implies.
    out["is_ngff"] = a._is_ngff
    return out


def _fov_dict(field: str, f: FieldOfView) -> dict:
    out: Dict[str, Any] = {"path": f.path}
    if f.acquisition_id is not None:
        out["acquisition_id"] = f.acquisition_id
    out["array"] = _array_dict(f"{field}.array_settings", f.array_settings)
    return out


def _acquisition_dict(a: Acquisition) -> dict:
    out: Dict[str, Any] = {"id": a.id}
    for key in ("name", "description", "start_time", "end_time"):
        if getattr(a, key) is not None:
            out[key] = getattr(a, key)
    return out


def _plate_dict(field: str, p: Plate) -> dict:
    _check_items(f"{field}.wells", p.wells, Well)
    _check_items(f"{field}.acquisitions", p.acquisitions, Acquisition)
    out: Dict[str, Any] = {"path": p.path}
    if p.name is not None:
        out["name"] = p.name
    out["row_names"] = list(p.row_names)
    out["column_names"] = list(p.column_names)
    wells = []
    for i, w in enumerate(p.wells):
        _check_items(f"{field}.wells[{i}].images", w.images, FieldOfView)
        wells.append({"row_name": w.row_name, "column_name": w.column_name,
                      "images": [_fov_dict(f"{field}.wells[{i}].images[{j}]", f)
                                 for j, f in enumerate(w.images)]})
    out["wells"] = wells
    if p.acquisitions:
        out["acquisitions"] = [_acquisition_dict(a) for a in p.acquisitions]
    return out


def _uses_seed_fields(s: StreamSettings) -> bool:
    d = StreamSettings(max_threads=1)
    return any(getattr(s, k) != getattr(d, k) for k in (
        "dimensions", "data_type", "compression", "multiscale", "downsampling_method",
        "output_key"))


def to_dict(s: StreamSettings) -> dict:
    _check_items("StreamSettings.arrays", s.arrays, ArraySettings)
    _check_items("StreamSettings.hcs_plates", s.hcs_plates, Plate)
    out: Dict[str, Any] = {"version": SCHEMA_VERSION, "store_path": s.store_path,
                           "zarr_version": int(s.version), "overwrite": s.overwrite,
                           "max_threads": s.max_threads}
    if s.s3 is not None:
        out["s3"] = {"endpoint": s.s3.endpoint, "bucket_name": s.s3.bucket_name}
        if s.s3.region is not None:
            out["s3"]["region"] = s.s3.region
        if s.s3.addressing_style != "path":
            out["s3"]["addressing_style"] = s.s3.addressing_style
    if s.custom_metadata is not None:
        out["custom_metadata"] = s.custom_metadata
    if _uses_seed_fields(s):
        _check_items("StreamSettings.dimensions", s.dimensions, Dimension)
        out["dimensions"] = [_dimension_dict(d) for d in s.dimensions]
        out["data_type"] = s.data_type.name.lower()
        if s.compression is not None:
            out["compression"] = _compression_dict(s.compression)
        out["multiscale"] = s.multiscale
        out["downsampling_method"] = s.downsampling_method.name.lower()
        out["output_key"] = s.output_key
        if s.max_levels:
            out["max_levels"] = s.max_levels
        if s.storage_dimension_order is not None:
            out["storage_dimension_order"] = _order_out(
                "storage_dimension_order", s.storage_dimension_order, s.dimensions)
    if s.arrays:
        out["arrays"] = [_array_dict(f"arrays[{i}]", a) for i, a in enumerate(s.arrays)]
    if s.hcs_plates:
        out["plates"] = [_plate_dict(f"plates[{i}]", p) for i, p in enumerate(s.hcs_plates)]
    return out


def to_json(s: StreamSettings) -> str:
    return json.dumps(to_dict(s), indent=2) + "\n"


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as e:
        raise ImportError(
            "YAML config files need PyYAML (pip install pyyaml), a dependency of "
            "acquire-zarr that is missing here; JSON config files work without it") from e
    return yaml


def _yaml_load(text: str) -> Any:
    """YAML with the booleans of YAML 1.2 (true/false) only: a row named
    ``on`` or ``no``, which other writers leave unquoted, stays a string."""
    yaml = _yaml()

    class Loader(yaml.SafeLoader):
        pass

    bool_tag = "tag:yaml.org,2002:bool"
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != bool_tag]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    Loader.add_implicit_resolver(bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader


def to_yaml(s: StreamSettings) -> str:
    return _yaml().safe_dump(to_dict(s), sort_keys=False, default_flow_style=False)


def to_file(s: StreamSettings, path: "str | os.PathLike[str]") -> None:
    path = Path(path)
    text = to_json(s) if path.suffix.lower() == ".json" else to_yaml(s)
    path.write_text(text, encoding="utf-8")


# ---- reading -----------------------------------------------------------


class _Node:
    """One mapping of a config document, read field by field; every refusal
    names the field's path and its value."""

    def __init__(self, where: str, data: Any, known: tuple, aliases: Optional[dict] = None):
        self.where = where
        if not isinstance(data, dict):
            raise InvalidSettingsError(
                f"{where or 'the config'} must be a mapping, got {data!r}")
        aliases = aliases or {}
        self.data = {aliases.get(k, k): v for k, v in data.items()}
        if len(self.data) != len(data):
            raise InvalidSettingsError(
                f"{where or 'the config'} gives both a key and its alias: {sorted(data)!r}")
        unknown = [k for k in data if aliases.get(k, k) not in known]
        if unknown:
            raise InvalidSettingsError(
                f"{where or 'the config'} has unknown key(s) {unknown!r}; valid: "
                f"{', '.join(known)}")

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, key: str, kind: str, default: Any = None) -> Any:
        value = self.data.get(key)
        if value is None:
            return default
        ok: Callable[[Any], bool] = {
            "str": lambda v: isinstance(v, str),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
            "bool": lambda v: isinstance(v, bool),
            "list": lambda v: isinstance(v, list),
        }.get(kind, lambda v: True)
        if kind == "float":
            # YAML 1.1 reads 1e-3 as a string; a number written either way is fine.
            if isinstance(value, bool):
                self._bad(key, kind)
            try:
                return float(value)
            except (TypeError, ValueError):
                self._bad(key, kind)
        if not ok(value):
            self._bad(key, kind)
        return value

    def choice(self, key: str, names: Dict[Any, str], default: Any) -> Any:
        value = self.data.get(key)
        if value is None:
            return default
        by_name = {n: m for m, n in names.items()}
        text = value.lower().replace("_", "-") if isinstance(value, str) else value
        if text in by_name:
            return by_name[text]
        text = text.replace("-", "_") if isinstance(text, str) else text
        if text in by_name:
            return by_name[text]
        raise InvalidSettingsError(
            f"{self.path(key)} is {value!r}: expected one of {', '.join(names.values())}")

    def _bad(self, key: str, kind: str) -> Any:
        expected = {"int": "a non-negative integer", "list": "a list"}.get(kind, f"a {kind}")
        raise InvalidSettingsError(f"{self.path(key)} is {self.data[key]!r}: expected {expected}")


def _items(node: _Node, key: str) -> List[Any]:
    return node.get(key, "list", [])


def _dimension(where: str, data: Any) -> Dimension:
    n = _Node(where, data, ("name", "type", "array_size_px", "chunk_size_px",
                            "shard_size_chunks", "unit", "scale"), {"kind": "type"})
    return Dimension(name=n.get("name", "str", ""),
                     kind=n.choice("type", _names(DimensionType), DimensionType.SPACE),
                     array_size_px=n.get("array_size_px", "int", 0),
                     chunk_size_px=n.get("chunk_size_px", "int", 0),
                     shard_size_chunks=n.get("shard_size_chunks", "int", 0),
                     unit=n.get("unit", "str") or None, scale=n.get("scale", "float", 1.0))


def _compression(where: str, data: Any) -> CompressionSettings:
    n = _Node(where, data, ("compressor", "codec", "level", "shuffle"))
    return CompressionSettings(compressor=n.choice("compressor", _COMPRESSORS, Compressor.NONE),
                               codec=n.choice("codec", _CODECS, CompressionCodec.NONE),
                               level=n.get("level", "int", 1), shuffle=n.get("shuffle", "int", 0))


def _dimensions(node: _Node) -> List[Dimension]:
    return [_dimension(f"{node.path('dimensions')}[{i}]", d)
            for i, d in enumerate(_items(node, "dimensions"))]


def _array(where: str, data: Any) -> ArraySettings:
    n = _Node(where, data, ("output_key", "dimensions", "data_type", "compression",
                            "downsampling_method", "max_levels", "storage_dimension_order",
                            "is_ngff"))
    methods: Dict[Any, str] = {None: "none", **_names(DownsamplingMethod)}
    dims = _dimensions(n)
    order = _order_in(n.get("storage_dimension_order", "list"), dims)
    return ArraySettings(
        output_key=n.get("output_key", "str"), dimensions=dims,
        data_type=n.choice("data_type", _names(DataType), DataType.UINT8),
        compression=_compression(n.path("compression"), n.data["compression"])
        if n.has("compression") else None,
        downsampling_method=n.choice("downsampling_method", methods, None),
        max_levels=n.get("max_levels", "int", 0), storage_dimension_order=order,
        is_ngff=n.get("is_ngff", "bool", False))


def _fov(where: str, data: Any) -> FieldOfView:
    n = _Node(where, data, ("path", "acquisition_id", "array"), {"array_settings": "array"})
    return FieldOfView(path=n.get("path", "str", ""),
                       acquisition_id=n.get("acquisition_id", "int"),
                       array_settings=_array(n.path("array"), n.data["array"])
                       if n.has("array") else None)


def _well(where: str, data: Any) -> Well:
    n = _Node(where, data, ("row_name", "column_name", "images"))
    return Well(row_name=n.get("row_name", "str", ""),
                column_name=n.get("column_name", "str", ""),
                images=[_fov(f"{n.path('images')}[{i}]", f)
                        for i, f in enumerate(_items(n, "images"))])


def _acquisition(where: str, data: Any) -> Acquisition:
    n = _Node(where, data, ("id", "name", "description", "start_time", "end_time"))
    return Acquisition(id=n.get("id", "int", 0), name=n.get("name", "str"),
                       description=n.get("description", "str"),
                       start_time=n.get("start_time", "int"), end_time=n.get("end_time", "int"))


def _names_list(n: _Node, key: str) -> List[str]:
    names = _items(n, key)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise InvalidSettingsError(f"{n.path(key)}[{i}] is {name!r}: expected a string")
    return list(names)


def _plate(where: str, data: Any) -> Plate:
    n = _Node(where, data, ("path", "name", "row_names", "column_names", "wells",
                            "acquisitions"))
    return Plate(path=n.get("path", "str", ""), name=n.get("name", "str"),
                 row_names=_names_list(n, "row_names"),
                 column_names=_names_list(n, "column_names"),
                 wells=[_well(f"{n.path('wells')}[{i}]", w)
                        for i, w in enumerate(_items(n, "wells"))],
                 acquisitions=[_acquisition(f"{n.path('acquisitions')}[{i}]", a)
                               for i, a in enumerate(_items(n, "acquisitions"))])


_TOP = ("version", "store_path", "zarr_version", "overwrite", "max_threads", "s3",
        "custom_metadata", "dimensions", "data_type", "compression", "multiscale",
        "downsampling_method", "output_key", "max_levels", "storage_dimension_order", "arrays",
        "plates")


def _addressing_style(s3n: _Node) -> str:
    style = s3n.get("addressing_style", "str", "path")
    if style not in ("path", "virtual"):
        raise InvalidSettingsError(
            f"s3.addressing_style is {style!r}: expected 'path' or 'virtual'")
    return style


def from_dict(data: Any) -> StreamSettings:
    n = _Node("", data, _TOP, {"hcs_plates": "plates"})
    schema = n.get("version", "int", SCHEMA_VERSION)
    if schema not in _SCHEMA_VERSIONS:
        raise InvalidSettingsError(
            f"version is {schema}: the config schema versions read are "
            f"{', '.join(map(str, _SCHEMA_VERSIONS))} (the Zarr format goes in zarr_version)")
    s3 = None
    if n.has("s3"):
        s3n = _Node("s3", n.data["s3"],
                    ("endpoint", "bucket_name", "region", "addressing_style"))
        s3 = S3Settings(endpoint=s3n.get("endpoint", "str", ""),
                        bucket_name=s3n.get("bucket_name", "str", ""),
                        region=s3n.get("region", "str"),
                        addressing_style=_addressing_style(s3n))
    zarr_version = n.get("zarr_version", "int", int(ZarrVersion.V3))
    if zarr_version not in (2, 3):
        raise InvalidSettingsError(f"zarr_version is {zarr_version}: expected 2 or 3")
    dims = _dimensions(n)
    return StreamSettings(
        store_path=n.get("store_path", "str", ""), s3=s3, version=ZarrVersion(zarr_version),
        overwrite=n.get("overwrite", "bool", False), max_threads=n.get("max_threads", "int"),
        custom_metadata=n.get("custom_metadata", "str"), dimensions=dims,
        data_type=n.choice("data_type", _names(DataType), DataType.UINT8),
        compression=_compression("compression", n.data["compression"])
        if n.has("compression") else None,
        multiscale=n.get("multiscale", "bool", False),
        downsampling_method=n.choice("downsampling_method", _names(DownsamplingMethod),
                                     DownsamplingMethod.DECIMATE),
        output_key=n.get("output_key", "str", ""),
        max_levels=n.get("max_levels", "int", 0),
        storage_dimension_order=_order_in(n.get("storage_dimension_order", "list"), dims),
        arrays=[_array(f"arrays[{i}]", a) for i, a in enumerate(_items(n, "arrays"))],
        hcs_plates=[_plate(f"plates[{i}]", p) for i, p in enumerate(_items(n, "plates"))])


def _parse(text: str, source: str, json_first: bool) -> Any:
    """JSON when it looks like JSON (or the file is .json), else YAML;
    JSON that does not parse is tried as YAML, which reads more."""
    json_error: Optional[ValueError] = None
    if json_first or text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError as e:
            json_error = e
    yaml = _yaml()
    try:
        return _yaml_load(text)
    except yaml.YAMLError as e:
        detail = f"not valid JSON ({json_error}) nor YAML" if json_error else "not valid YAML"
        raise InvalidSettingsError(f"{source} is {detail}: {e}") from None


def from_string(text: str) -> StreamSettings:
    if not isinstance(text, str):
        raise TypeError(f"from_string() needs a str, got {text!r}")
    return from_dict(_parse(text, "the config text", json_first=False))


def from_file(path: "str | os.PathLike[str]") -> StreamSettings:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        return from_dict(_parse(text, f"config file {str(path)!r}",
                                json_first=path.suffix.lower() == ".json"))
    except InvalidSettingsError as e:
        if str(path) in str(e):
            raise
        raise InvalidSettingsError(f"config file {str(path)!r}: {e}") from None
