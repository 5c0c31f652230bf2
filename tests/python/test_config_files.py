"""Config files: StreamSettings.to_dict/to_json/to_yaml/to_file and
from_dict/from_string/from_file round-trip every field of both generations;
files in acquire-zarr 0.10's schema load; bad documents are refused naming
the field."""

from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import dims


def full_current_settings() -> aqz.StreamSettings:
    """Every field of the current API set to something other than its default."""
    blosc = aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1,
                                    codec=aqz.CompressionCodec.BLOSC_ZSTD, level=4, shuffle=2)
    zstd = aqz.CompressionSettings(compressor=aqz.Compressor.ZSTD,
                                   codec=aqz.CompressionCodec.ZSTD, level=7)
    fov = aqz.FieldOfView(path="fov0", acquisition_id=3, array_settings=aqz.ArraySettings(
        dimensions=dims(("t", 0, 1, 1), ("y", 8, 4, 2), ("x", 8, 4, 2)), data_type=np.int16,
        compression=zstd))
    plate = aqz.Plate(
        path="plates/p1", name="Plate 1", row_names=["A", "B", "on"], column_names=["1", "02"],
        wells=[aqz.Well(row_name="A", column_name="1", images=[fov]),
               aqz.Well(row_name="on", column_name="02", images=[])],
        acquisitions=[aqz.Acquisition(id=3, name="first", description="the one",
                                      start_time=1_700_000_000_000, end_time=2**64 - 1),
                      aqz.Acquisition(id=4)])
    return aqz.StreamSettings(
        store_path="/data/out.zarr", s3=aqz.S3Settings(endpoint="http://s3:9000",
                                                       bucket_name="bucket", region="eu-west-1",
                                                       addressing_style="virtual"),
        version=aqz.ZarrVersion.V2, max_threads=5, overwrite=True,
        custom_metadata='{"operator": "me", "n": [1, 2]}',
        arrays=[
            aqz.ArraySettings(output_key="pos/0", data_type=np.float32, compression=blosc,
                              dimensions=dims(("t", 0, 2, 1, "second", 0.25), ("c", 3, 1, 1),
                                              ("y", 16, 8, 2, "micrometer", 0.5),
                                              ("x", 16, 8, 2, "micrometer", 0.5)),
                              downsampling_method=aqz.DownsamplingMethod.MAX, max_levels=2,
                              storage_dimension_order=["t", "c", "x", "y"]),
            aqz.ArraySettings(output_key="labels", is_ngff=True, data_type=np.uint64,
                              dimensions=dims(("z", 4, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))),
            aqz.ArraySettings(dimensions=dims(("y", 8, 8, 1), ("x", 8, 8, 1))),
        ],
        hcs_plates=[plate])


def full_seed_settings() -> aqz.StreamSettings:
    """Every seed-era field away from its default."""
    return aqz.StreamSettings(
        store_path="seed.zarr", data_type=np.uint16, version=aqz.ZarrVersion.V3, max_threads=1,
        dimensions=dims(("t", 0, 4, 2), ("z", 6, 3, 1, "micrometer", 2.0), ("y", 32, 16, 2),
                        ("x", 32, 16, 2)),
        compression=aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1,
                                            codec=aqz.CompressionCodec.BLOSC_LZ4, level=9,
                                            shuffle=1),
        multiscale=True, downsampling_method=aqz.DownsamplingMethod.MEAN, output_key="a/b",
        custom_metadata='{"k": "v"}', max_levels=1, storage_dimension_order=["t", "z", "x", "y"])


SETTINGS = {"current": full_current_settings, "seed": full_seed_settings,
            "defaults": aqz.StreamSettings}


@pytest.mark.parametrize("which", list(SETTINGS))
def test_to_dict_then_from_dict_gives_equal_settings(which):
    s = SETTINGS[which]()
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d  # plain values only
    assert aqz.StreamSettings.from_dict(d) == s


@pytest.mark.parametrize("which", list(SETTINGS))
@pytest.mark.parametrize("form", ["json", "yaml"])
def test_text_round_trip_gives_equal_settings(which, form):
    s = SETTINGS[which]()
    text = s.to_json() if form == "json" else s.to_yaml()
    assert aqz.StreamSettings.from_string(text) == s


@pytest.mark.parametrize("name,first", [("s.json", "{"), ("s.yaml", "version: 2"),
                                        ("s.yml", "version: 2"), ("settings", "version: 2")])
def test_to_file_writes_json_for_json_paths_else_yaml_and_reads_back(tmp_path, name, first):
    s = full_current_settings()
    path = tmp_path / name
    s.to_file(path)
    assert path.read_text().startswith(first)
    assert aqz.StreamSettings.from_file(path) == s
    assert aqz.StreamSettings.from_file(str(path)) == s


def test_json_in_a_yaml_file_and_yaml_in_a_txt_file_are_read_by_content(tmp_path):
    s = full_seed_settings()
    (tmp_path / "a.yaml").write_text(s.to_json())
    (tmp_path / "b.txt").write_text(s.to_yaml())
    assert aqz.StreamSettings.from_file(tmp_path / "a.yaml") == s
    assert aqz.StreamSettings.from_file(tmp_path / "b.txt") == s


def test_dict_uses_acquire_zarr_names_and_leaves_defaults_out():
    d = full_current_settings().to_dict()
    assert d["version"] == 2 and d["zarr_version"] == 2 and "hcs_plates" not in d
    a0, a1, a2 = d["arrays"]
    assert a0["compression"] == {"compressor": "blosc1", "codec": "blosc-zstd", "level": 4,
                                 "shuffle": 2}
    assert a0["data_type"] == "float32" and a0["downsampling_method"] == "max"
    assert a0["storage_dimension_order"] == [0, 1, 3, 2]  # indices, as acquire-zarr writes
    assert a0["dimensions"][0] == {"name": "t", "type": "time", "array_size_px": 0,
                                   "chunk_size_px": 2, "shard_size_chunks": 1,
                                   "unit": "second", "scale": 0.25}
    assert a1["downsampling_method"] == "none" and a1["is_ngff"] is True
    assert "max_levels" not in a1 and "compression" not in a1
    assert "output_key" not in a2  # None: the root
    image = d["plates"][0]["wells"][0]["images"][0]
    assert image["acquisition_id"] == 3 and image["array"]["compression"]["codec"] == "zstd"
    assert d["plates"][0]["acquisitions"][1] == {"id": 4}
    # Seed-era fields appear only when used.
    assert "dimensions" not in d and "multiscale" not in d
    seed = full_seed_settings().to_dict()
    assert seed["storage_dimension_order"] == [0, 1, 3, 2] and seed["max_levels"] == 1
    assert "arrays" not in seed and "plates" not in seed


def test_yaml_keeps_row_names_that_yaml_1_1_reads_as_booleans():
    s = full_current_settings()
    s.hcs_plates[0].row_names = ["on", "no", "Y", "true"]
    again = aqz.StreamSettings.from_string(s.to_yaml())
    assert again.hcs_plates[0].row_names == ["on", "no", "Y", "true"]
    # As another writer leaves them: unquoted.
    text = s.to_yaml().replace("'on'", "on").replace("'no'", "no")
    assert aqz.StreamSettings.from_string(text).hcs_plates[0].row_names[:2] == ["on", "no"]


# What acquire-zarr 0.10's StreamSettings.to_yaml() writes (yaml-cpp layout,
# keys sorted, the version of the schema, unquoted names).
ACQUIRE_ZARR_0_10_YAML = textwrap.dedent("""\
    arrays:
      - compression:
          codec: blosc-lz4
          compressor: blosc1
          level: 3
          shuffle: 1
        data_type: uint16
        dimensions:
          - array_size_px: 0
            chunk_size_px: 1
            name: t
            scale: 2
            shard_size_chunks: 1
            type: time
            unit: second
          - array_size_px: 4
            chunk_size_px: 4
            name: y
            scale: 1
            shard_size_chunks: 1
            type: space
            unit: ""
          - array_size_px: 4
            chunk_size_px: 4
            name: x
            scale: 1
            shard_size_chunks: 1
            type: space
            unit: ""
        downsampling_method: mean
        is_ngff: true
        max_levels: 2
        output_key: lab
        storage_dimension_order:
          - 0
          - 2
          - 1
    max_threads: 0
    overwrite: true
    plates:
      - acquisitions:
          - description: desc
            end_time: 10
            id: 0
            name: a
            start_time: 5
        column_names:
          - "1"
        name: P
        path: plate
        row_names:
          - A
          - on
        wells:
          - column_name: "1"
            images:
              - acquisition_id: 0
                array:
                  data_type: uint8
                  dimensions:
                    - array_size_px: 0
                      chunk_size_px: 1
                      name: t
                      scale: 1
                      shard_size_chunks: 1
                      type: time
                      unit: ""
                    - array_size_px: 4
                      chunk_size_px: 4
                      name: y
                      scale: 1
                      shard_size_chunks: 1
                      type: space
                      unit: ""
                    - array_size_px: 4
                      chunk_size_px: 4
                      name: x
                      scale: 1
                      shard_size_chunks: 1
                      type: space
                      unit: ""
                  downsampling_method: none
                  is_ngff: false
                path: fov1
            row_name: A
    s3:
      bucket_name: b
      endpoint: http://e
      region: r
    store_path: /tmp/x.zarr
    version: 2
    """)


def test_acquire_zarr_0_10_yaml_loads_with_every_field():
    s = aqz.StreamSettings.from_string(ACQUIRE_ZARR_0_10_YAML)
    assert (s.store_path, s.max_threads, s.overwrite) == ("/tmp/x.zarr", 0, True)
    assert s.s3 == aqz.S3Settings(endpoint="http://e", bucket_name="b", region="r")
    assert s.version == aqz.ZarrVersion.V3 and s.dimensions == []
    (a,) = s.arrays
    assert a.output_key == "lab" and a.data_type == aqz.DataType.UINT16
    assert a.compression == aqz.CompressionSettings(
        compressor=aqz.Compressor.BLOSC1, codec=aqz.CompressionCodec.BLOSC_LZ4, level=3, shuffle=1)
    assert [(d.name, d.kind, d.unit, d.scale) for d in a.dimensions] == [
        ("t", aqz.DimensionType.TIME, "second", 2.0), ("y", aqz.DimensionType.SPACE, None, 1.0),
        ("x", aqz.DimensionType.SPACE, None, 1.0)]
    assert a.downsampling_method == aqz.DownsamplingMethod.MEAN and a.max_levels == 2
    assert a.storage_dimension_order == ["t", "x", "y"] and a.is_ngff
    (p,) = s.hcs_plates
    assert (p.path, p.name, p.row_names, p.column_names) == ("plate", "P", ["A", "on"], ["1"])
    assert p.acquisitions == [aqz.Acquisition(id=0, name="a", description="desc", start_time=5,
                                              end_time=10)]
    (fov,) = p.wells[0].images
    assert (p.wells[0].row_name, fov.path, fov.acquisition_id) == ("A", "fov1", 0)
    assert fov.array_settings.downsampling_method is None and not fov.array_settings.is_ngff


def test_from_dict_leaves_its_argument_unchanged():
    d = full_current_settings().to_dict()
    before = json.dumps(d, sort_keys=True)
    aqz.StreamSettings.from_dict(d)
    assert json.dumps(d, sort_keys=True) == before


def test_hcs_plates_is_read_as_an_alias_of_plates():
    d = full_current_settings().to_dict()
    d["hcs_plates"] = d.pop("plates")
    assert aqz.StreamSettings.from_dict(d) == full_current_settings()


@pytest.mark.parametrize("change,text", [
    (lambda d: d.update(colour="red"), "has unknown key(s) ['colour']"),
    (lambda d: d["arrays"][0].update(chunks=4), "arrays[0] has unknown key(s) ['chunks']"),
    (lambda d: d["arrays"][0].update(data_type="uint17"), "arrays[0].data_type is 'uint17'"),
    (lambda d: d["arrays"][0]["dimensions"][1].update(type="depth"),
     "arrays[0].dimensions[1].type is 'depth'"),
    (lambda d: d["arrays"][0]["compression"].update(codec="gzip"),
     "arrays[0].compression.codec is 'gzip'"),
    (lambda d: d["arrays"][0]["dimensions"][0].update(chunk_size_px=-1),
     "arrays[0].dimensions[0].chunk_size_px is -1: expected a non-negative integer"),
    (lambda d: d["plates"][0]["wells"][0]["images"][0].update(acquisition_id="3"),
     "plates[0].wells[0].images[0].acquisition_id is '3'"),
    (lambda d: d["plates"][0]["row_names"].append(7), "plates[0].row_names[3] is 7"),
    (lambda d: d.update(overwrite="yes"), "overwrite is 'yes': expected a bool"),
    (lambda d: d.update(version=3), "version is 3: the config schema versions read are 1, 2"),
    (lambda d: d.update(zarr_version=4), "zarr_version is 4"),
    (lambda d: d.update(arrays={"a": 1}), "arrays is {'a': 1}: expected a list"),
    (lambda d: d["s3"].update(addressing_style="auto"),
     "s3.addressing_style is 'auto': expected 'path' or 'virtual'"),
])
def test_bad_documents_are_refused_naming_the_field(change, text):
    d = full_current_settings().to_dict()
    change(d)
    with pytest.raises(aqz.InvalidSettingsError) as info:
        aqz.StreamSettings.from_dict(d)
    assert text in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)


def test_text_that_is_neither_json_nor_yaml_is_refused(tmp_path):
    with pytest.raises(aqz.InvalidSettingsError, match="not valid JSON .* nor YAML"):
        aqz.StreamSettings.from_string('{"store_path": [1,')
    (tmp_path / "bad.yaml").write_text("arrays: [\n")
    with pytest.raises(aqz.InvalidSettingsError, match="bad.yaml"):
        aqz.StreamSettings.from_file(tmp_path / "bad.yaml")
    with pytest.raises(aqz.InvalidSettingsError, match="the config must be a mapping"):
        aqz.StreamSettings.from_string("- 1\n- 2\n")
    with pytest.raises(FileNotFoundError):
        aqz.StreamSettings.from_file(tmp_path / "missing.yaml")


def test_yaml_without_pyyaml_raises_import_error_saying_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ImportError, match="pip install pyyaml"):
        full_seed_settings().to_yaml()
    with pytest.raises(ImportError, match="JSON config files work without it"):
        aqz.StreamSettings.from_string("store_path: x\n")
    # JSON needs no PyYAML.
    assert aqz.StreamSettings.from_string(full_seed_settings().to_json()) == full_seed_settings()


def test_a_loaded_file_creates_a_stream_that_writes(tmp_path):
    s = aqz.StreamSettings(store_path=str(tmp_path / "s.zarr"), overwrite=True, arrays=[
        aqz.ArraySettings(output_key="a", data_type=np.uint16,
                          dimensions=dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1)))])
    s.to_file(tmp_path / "s.yaml")
    loaded = aqz.StreamSettings.from_file(tmp_path / "s.yaml")
    with aqz.ZarrStream(loaded) as stream:
        stream.append(np.full((3, 4, 4), 9, np.uint16), key="a")
    import zarr
    a = zarr.open_array(str(tmp_path / "s.zarr" / "a"), mode="r")
    assert a.shape == (3, 4, 4) and (a[...] == 9).all()
