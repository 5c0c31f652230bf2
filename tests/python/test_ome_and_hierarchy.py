"""OME-NGFF metadata validates with ome-zarr-models and the hierarchy follows
docs/format.md for every output_key layout."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

import acquire_zarr as aqz
from streamkit import dims, load_json, random_frames, settings, stream

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3

TCZYX = dims(("t", 0, 1, 1, "second", 2.5), ("c", 2, 1, 1), ("z", 3, 2, 1, "micrometer", 1.5),
             ("y", 8, 4, 2, "micrometer", 0.25), ("x", 8, 4, 2, "micrometer", 0.25))
TYX = dims(("t", 0, 2, 1), ("y", 8, 4, 2, "nanometer", 0), ("x", 8, 4, 2, "nanometer", 65.0))


def multiscales(store, version):
    if version == V3:
        ome = load_json(store / "zarr.json")["attributes"]["ome"]
        assert ome["version"] == "0.5"
        assert "version" not in ome["multiscales"][0]
        return ome["multiscales"]
    ms = load_json(store / ".zattrs")["multiscales"]
    assert ms[0]["version"] == "0.4"
    return ms


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("layout", ["tczyx", "tyx"])
def test_ome_metadata_validates(tmp_path, version, layout):
    d = TCZYX if layout == "tczyx" else TYX
    n = 2 * 3 * 2 if layout == "tczyx" else 3
    store = tmp_path / "s.zarr"
    stream(store, d, random_frames(n, 8, 8, np.uint16), version=version)
    group = zarr.open_group(str(store), mode="r")
    if version == V3:
        from ome_zarr_models.v05.image import Image
    else:
        from ome_zarr_models.v04.image import Image
    image = Image.from_zarr(group)
    (entry,) = image.attributes.multiscales if version == V2 else image.ome_attributes.multiscales
    assert [a.name for a in entry.axes] == [x.name for x in d]


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_axes_carry_their_types_units_and_scales(tmp_path, version):
    store = tmp_path / "s.zarr"
    stream(store, TCZYX, random_frames(6, 8, 8, np.uint16), version=version)
    (entry,) = multiscales(store, version)
    assert entry["axes"] == [
        {"name": "t", "type": "time", "unit": "second"},
        {"name": "c", "type": "channel"},
        {"name": "z", "type": "space", "unit": "micrometer"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    (dataset,) = entry["datasets"]
    assert dataset["path"] == "0"
    assert dataset["coordinateTransformations"] == [{"type": "scale", "scale": [2.5, 1.0, 1.5, 0.25, 0.25]}]
    assert "type" not in entry  # only pyramids describe a downsampling method


def test_zero_scale_means_one(tmp_path):
    store = tmp_path / "s.zarr"
    stream(store, TYX, random_frames(1, 8, 8, np.uint16))
    (entry,) = multiscales(store, V3)
    assert entry["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 1.0, 65.0]


def test_unknown_axis_names_have_type_other(tmp_path):
    store = tmp_path / "s.zarr"
    d = dims(("p", 0, 1, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    stream(store, d, random_frames(2, 4, 4, np.uint8))
    (entry,) = multiscales(store, V3)
    assert entry["axes"][0] == {"name": "p", "type": "other"}


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_output_key_without_multiscale_is_a_plain_array(tmp_path, version):
    store = tmp_path / "s.zarr"
    frames = random_frames(3, 8, 8, np.uint16)
    stream(store, TYX, frames, version=version, output_key="a/b/c")
    np.testing.assert_array_equal(zarr.open_array(str(store / "a/b/c"), mode="r")[...], frames)
    for group in ["", "a", "a/b"]:
        g = zarr.open_group(str(store / group), mode="r")
        assert dict(g.attrs) == {}, f"group '{group}' should be plain"
    meta = store / "a/b/c" / ("zarr.json" if version == V3 else ".zarray")
    assert meta.is_file()


def test_no_output_key_makes_the_root_an_image_group(tmp_path):
    store = tmp_path / "s.zarr"
    stream(store, TYX, random_frames(2, 8, 8, np.uint16))
    root = zarr.open_group(str(store), mode="r")
    assert list(root.array_keys()) == ["0"]
    assert "ome" in root.attrs


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_two_streams_into_one_store_keep_each_other(tmp_path, version):
    store = tmp_path / "s.zarr"
    first = random_frames(2, 8, 8, np.uint16, seed=1)
    second = random_frames(3, 8, 8, np.uint16, seed=2)
    stream(store, TYX, first, version=version, output_key="run1",
           custom_metadata='{"project": "atlas"}')
    stream(store, TYX, second, version=version, output_key="run2", overwrite=False)
    np.testing.assert_array_equal(zarr.open_array(str(store / "run1"), mode="r")[...], first)
    np.testing.assert_array_equal(zarr.open_array(str(store / "run2"), mode="r")[...], second)
    root = zarr.open_group(str(store), mode="r")
    assert root.attrs["project"] == "atlas"
    assert sorted(root.array_keys()) == ["run1", "run2"]


def test_group_in_place_of_an_existing_array_is_refused(tmp_path):
    store = tmp_path / "s.zarr"
    stream(store, TYX, random_frames(1, 8, 8, np.uint16), output_key="a")
    with pytest.raises(FileExistsError, match="is an array, not a group"):
        aqz.ZarrStream(settings(store, TYX, output_key="a/b", overwrite=False))
    assert zarr.open_array(str(store / "a"), mode="r").shape == (1, 8, 8)


def test_file_url_store_path_writes_to_that_directory(tmp_path):
    frames = random_frames(2, 8, 8, np.uint16)
    s = aqz.StreamSettings(store_path=f"file://{tmp_path / 's.zarr'}", dimensions=TYX,
                           data_type=np.uint16)
    with aqz.ZarrStream(s) as st:
        st.append(frames)
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "s.zarr" / "0"), mode="r")[...], frames)


def test_ome_zarr_reader_opens_the_image(tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    store = tmp_path / "s.zarr"
    stream(store, TCZYX, random_frames(12, 8, 8, np.uint16), version=V2)
    nodes = list(Reader(parse_url(str(store)))())
    assert nodes, "ome-zarr found no image"
    assert nodes[0].data[0].shape == (2, 2, 3, 8, 8)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_an_array_replaced_without_overwrite_keeps_none_of_its_old_objects(tmp_path, version):
    store = tmp_path / "s.zarr"
    first = random_frames(2, 8, 8, np.uint16, seed=1)
    stream(store, TYX, first, version=version, output_key="run1",
           custom_metadata='{"project": "atlas"}')
    stream(store, TYX, random_frames(5, 8, 8, np.uint16, seed=2), version=version,
           output_key="run2", overwrite=False)
    # The same key again, with a shorter array and shorter metadata.
    short = dims(("t", 0, 1, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    third = random_frames(1, 4, 4, np.uint16, seed=3)
    stream(store, short, third, version=version, output_key="run2", overwrite=False)
    meta = "zarr.json" if version == V3 else ".zarray"
    files = sorted(p.relative_to(store / "run2").as_posix()
                   for p in (store / "run2").rglob("*") if p.is_file())
    chunk = "c/0/0/0" if version == V3 else "0/0/0"
    assert files == sorted([meta, chunk]), files
    assert load_json(store / "run2" / meta)["shape"] == [1, 4, 4]  # parses: no stale tail
    np.testing.assert_array_equal(zarr.open_array(str(store / "run2"), mode="r")[...], third)
    np.testing.assert_array_equal(zarr.open_array(str(store / "run1"), mode="r")[...], first)
    assert zarr.open_group(str(store), mode="r").attrs["project"] == "atlas"


def test_a_pyramid_replaced_by_a_shorter_one_loses_its_extra_levels(tmp_path):
    store = tmp_path / "s.zarr"
    big = dims(("t", 0, 1, 1), ("y", 64, 8, 1), ("x", 64, 8, 1))
    stream(store, big, random_frames(1, 64, 64, np.uint16), output_key="img", multiscale=True)
    assert (store / "img" / "3" / "zarr.json").exists()
    small = dims(("t", 0, 1, 1), ("y", 16, 8, 1), ("x", 16, 8, 1))
    frames = random_frames(2, 16, 16, np.uint16, seed=4)
    stream(store, small, frames, output_key="img", multiscale=True, overwrite=False)
    levels = sorted(p.name for p in (store / "img").iterdir() if p.is_dir())
    assert levels == ["0", "1"], levels
    datasets = multiscales(store / "img", V3)[0]["datasets"]
    assert [d["path"] for d in datasets] == ["0", "1"]
    np.testing.assert_array_equal(zarr.open_array(str(store / "img" / "0"), mode="r")[...], frames)
