"""pymmcore-plus's ome-writers, a real client of acquire-zarr's current API
(StreamSettings(arrays=[ArraySettings(...)]), append(frame, key=...)), run
with its acquire-zarr backend against our package: a multi-position and a
plate acquisition read back with zarr-python and TensorStore, their OME
metadata accepted by ome-zarr-models."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorstore as ts
import zarr

ow = pytest.importorskip(
    "ome_writers", reason="ome-writers is not installed (the Makefile's Python dependencies "
    "install it: make venv)")

T, C, Y, X = 3, 2, 32, 48


def acquire(root, positions, plate=None):
    """t, position, c, y, x in acquisition order; each frame's value says
    where it belongs: 100 t + 10 position + c."""
    dims = [ow.Dimension(name="t", count=T, type="time", chunk_size=1),
            ow.Dimension(name="p", type="position", coords=positions),
            ow.Dimension(name="c", count=C, type="channel", chunk_size=1),
            ow.Dimension(name="y", count=Y, type="space", chunk_size=16),
            ow.Dimension(name="x", count=X, type="space", chunk_size=16)]
    extra = {} if plate is None else {"plate": plate}
    settings = ow.AcquisitionSettings(
        root_path=str(root), dimensions=dims, dtype="uint16", overwrite=True,
        format={"name": "ome-zarr", "backend": "acquire-zarr"}, **extra)
    with ow.create_stream(settings) as stream:
        for t in range(T):
            for p in range(len(positions)):
                for c in range(C):
                    stream.append(np.full((Y, X), 100 * t + 10 * p + c, np.uint16))


def expected(p):
    values = 100 * np.arange(T)[:, None] + 10 * p + np.arange(C)[None, :]
    return np.broadcast_to(values[:, :, None, None], (T, C, Y, X)).astype(np.uint16)


def read_both(path):
    a = zarr.open_array(str(path), mode="r")[...]
    b = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}},
                open=True, read=True).result().read().result()
    np.testing.assert_array_equal(a, b)
    return a


def test_a_multi_position_acquisition_reads_back(tmp_path):
    from ome_zarr_models.v05.image import Image

    root = tmp_path / "multi.ome.zarr"
    acquire(root, ["pos0", "pos1", "pos2"])
    for p in range(3):
        image = Image.from_zarr(zarr.open_group(str(root / f"pos{p}"), mode="r"))
        axes = [a.name for a in image.ome_attributes.multiscales[0].axes]
        assert axes == ["t", "c", "y", "x"]
        np.testing.assert_array_equal(read_both(root / f"pos{p}" / "0"), expected(p))


def test_a_plate_acquisition_reads_back(tmp_path):
    from ome_zarr_models.v05.hcs import HCS

    root = tmp_path / "plate.ome.zarr"
    positions = [ow.Position(name="fov0", plate_row="A", plate_column="1"),
                 ow.Position(name="fov1", plate_row="A", plate_column="1"),
                 ow.Position(name="fov0", plate_row="B", plate_column="2")]
    acquire(root, positions, ow.Plate(row_names=["A", "B"], column_names=["1", "2"], name="P"))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'version' field not specified in plate")
        hcs = HCS.from_zarr(zarr.open_group(str(root), mode="r"))
    assert sorted(w.path for w in hcs.ome_attributes.plate.wells) == ["A/1", "B/2"]
    for p, key in enumerate(["A/1/fov0", "A/1/fov1", "B/2/fov0"]):
        np.testing.assert_array_equal(read_both(root / key / "0"), expected(p))
