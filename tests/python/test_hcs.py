"""HCS plates from Python: a stream of plates (and flat arrays beside them)
writes OME-NGFF plate, well and image groups that ome-zarr-models accepts
(NGFF 0.5 on Zarr v3, 0.4 on v2), and the frames appended to each field of
view read back with zarr-python and TensorStore."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorstore as ts
import zarr

import acquire_zarr as aqz
from streamkit import dims

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3


def fov(path, acquisition_id=None, dtype=np.uint16, **kwargs):
    return aqz.FieldOfView(path=path, acquisition_id=acquisition_id, array_settings=aqz.ArraySettings(
        dimensions=dims(("t", 0, 2, 1), ("y", 6, 4, 2, "micrometer", 0.65),
                        ("x", 8, 4, 2, "micrometer", 0.65)), data_type=dtype, **kwargs))


def plate(path="plate"):
    """Two acquisitions; A/1 with two fields, B/3 with one, A/2 with none."""
    return aqz.Plate(
        path=path, name="Screen 1", row_names=["A", "B"], column_names=["1", "2", "3"],
        wells=[aqz.Well(row_name="A", column_name="1", images=[fov("0", 0), fov("1", 1)]),
               aqz.Well(row_name="B", column_name="3", images=[fov("0", 0)]),
               aqz.Well(row_name="A", column_name="2", images=[])],
        acquisitions=[aqz.Acquisition(id=0, name="first", description="before drug",
                                      start_time=1_700_000_000, end_time=1_700_000_100),
                      aqz.Acquisition(id=1, name="second")])


def open_models(version):
    if version == V3:
        from ome_zarr_models.v05.hcs import HCS
        from ome_zarr_models.v05.image import Image
        from ome_zarr_models.v05.well import Well
    else:
        from ome_zarr_models.v04.hcs import HCS
        from ome_zarr_models.v04.image import Image
        from ome_zarr_models.v04.well import Well
    return HCS, Well, Image


def validated_hcs(path, version):
    HCS, _, _ = open_models(version)
    with warnings.catch_warnings():
        # NGFF 0.5 keeps the version at ome.version (FORMAT.md); the model
        # warns when the plate object does not repeat it.
        warnings.filterwarnings("ignore", message="'version' field not specified in plate")
        return HCS.from_zarr(zarr.open_group(str(path), mode="r"))


def read_both(path):
    a = zarr.open_array(str(path), mode="r")[...]
    driver = "zarr" if (path / ".zarray").exists() else "zarr3"
    b = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": str(path)}},
                open=True, read=True).result().read().result()
    np.testing.assert_array_equal(a, b)
    return a


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_plate_metadata_validates_and_fields_of_view_read_back(tmp_path, version):
    path = tmp_path / "s.zarr"
    s = aqz.StreamSettings(store_path=str(path), version=version, overwrite=True, max_threads=2,
                           hcs_plates=[plate()])
    assert sorted(s.get_array_keys()) == ["plate/A/1/0", "plate/A/1/1", "plate/B/3/0"]
    rng = np.random.default_rng(3)
    data = {k: rng.integers(0, 65535, (n, 6, 8), dtype=np.uint16)
            for k, n in [("plate/A/1/0", 5), ("plate/A/1/1", 2), ("plate/B/3/0", 3)]}
    with aqz.ZarrStream(s) as stream:
        for i in range(5):  # one frame per field of view in turn, as a stage visits them
            for key, frames in data.items():
                if i < len(frames):
                    stream.append(frames[i], key=key)

    hcs = validated_hcs(path / "plate", version)
    p = hcs.ome_attributes.plate
    assert p.name == "Screen 1"
    assert [r.name for r in p.rows] == ["A", "B"] and [c.name for c in p.columns] == ["1", "2", "3"]
    wells = {w.path: (w.rowIndex, w.columnIndex) for w in p.wells}
    assert wells == {"A/1": (0, 0), "B/3": (1, 2), "A/2": (0, 1)}
    assert [(a.id, a.name) for a in p.acquisitions] == [(0, "first"), (1, "second")]
    assert p.acquisitions[0].starttime == 1_700_000_000 and p.field_count == 2

    _, Well, Image = open_models(version)
    well = Well.from_zarr(zarr.open_group(str(path / "plate" / "A" / "1"), mode="r"))
    assert [(i.path, i.acquisition) for i in well.ome_attributes.well.images] == [("0", 0), ("1", 1)]
    for key, frames in data.items():
        image = Image.from_zarr(zarr.open_group(str(path / key), mode="r"))
        (multiscale,) = image.ome_attributes.multiscales
        assert [d.path for d in multiscale.datasets] == ["0"]
        np.testing.assert_array_equal(read_both(path / key / "0"), frames)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_a_well_without_images_and_a_field_without_frames_still_get_metadata(tmp_path, version):
    path = tmp_path / "s.zarr"
    s = aqz.StreamSettings(store_path=str(path), version=version, overwrite=True,
                           hcs_plates=[plate()])
    aqz.ZarrStream(s).close()
    hcs = validated_hcs(path / "plate", version)
    assert len(hcs.ome_attributes.plate.wells) == 3
    _, Well, Image = open_models(version)
    empty = Well.from_zarr(zarr.open_group(str(path / "plate" / "A" / "2"), mode="r"))
    assert empty.ome_attributes.well.images == []
    Image.from_zarr(zarr.open_group(str(path / "plate" / "B" / "3" / "0"), mode="r"))
    assert read_both(path / "plate" / "B" / "3" / "0" / "0").shape == (0, 6, 8)


def test_plates_and_flat_arrays_share_a_stream(tmp_path):
    path = tmp_path / "s.zarr"
    s = aqz.StreamSettings(store_path=str(path), overwrite=True, plates=[plate("p")], arrays=[
        aqz.ArraySettings(output_key="overview", data_type=np.uint8,
                          dimensions=dims(("t", 0, 1, 1), ("y", 4, 4, 1), ("x", 4, 4, 1)))])
    with aqz.ZarrStream(s) as stream:
        stream.append(np.full((4, 4), 200, np.uint8), key="overview")
        stream.append(np.full((6, 8), 7, np.uint16), key="p/B/3/0")
        stream.skip(6 * 8 * 2, key="p/A/1/1")
        with pytest.raises(aqz.ArrayKeyError, match="'p/B/2/0'"):
            stream.append(np.zeros((6, 8), np.uint16), key="p/B/2/0")
        stream.write_custom_metadata({"plate_barcode": "X1"}, array_key="p")
    assert read_both(path / "overview")[0, 0, 0] == 200
    assert read_both(path / "p" / "B" / "3" / "0" / "0")[0, 0, 0] == 7
    assert (read_both(path / "p" / "A" / "1" / "1" / "0") == 0).all()
    assert zarr.open_group(str(path / "p"), mode="r").attrs["plate_barcode"] == "X1"
    validated_hcs(path / "p", V3)


def test_a_field_of_view_with_an_output_key_is_refused_naming_it(tmp_path):
    p = plate()
    p.wells[1].images[0].array_settings.output_key = "elsewhere"
    s = aqz.StreamSettings(store_path=str(tmp_path / "s.zarr"), hcs_plates=[p])
    with pytest.raises(aqz.InvalidSettingsError,
                       match=r"hcs_plates\[0\].wells\[1\].images\[0\].array_settings.output_key "
                             r"is 'elsewhere'"):
        aqz.ZarrStream(s)
    assert not (tmp_path / "s.zarr").exists()


@pytest.mark.parametrize("field,value", [("row_names", ["A", "B-2"]), ("column_names", ["1", "1"])])
def test_bad_row_and_column_names_are_refused_naming_them(tmp_path, field, value):
    p = plate()
    setattr(p, field, value)
    s = aqz.StreamSettings(store_path=str(tmp_path / "s.zarr"), hcs_plates=[p])
    with pytest.raises(aqz.InvalidSettingsError, match=field):
        aqz.ZarrStream(s)


def test_a_well_outside_the_plate_rows_is_refused(tmp_path):
    p = plate()
    p.wells.append(aqz.Well(row_name="C", column_name="1", images=[fov("0")]))
    s = aqz.StreamSettings(store_path=str(tmp_path / "s.zarr"), hcs_plates=[p])
    with pytest.raises(aqz.InvalidSettingsError, match="'C'"):
        aqz.ZarrStream(s)
