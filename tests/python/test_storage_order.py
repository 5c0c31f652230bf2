"""Arrays stored in another order than frames are acquired in (the seed-era
settings' storage_dimension_order, and max_levels: StreamSettings fields): what zarr-python and
TensorStore read is numpy.transpose of what was appended, for v2 and v3,
ragged chunks and shards, multi-frame and partial appends, every way chunks
are built; the metadata lists every axis in storage order."""

from __future__ import annotations

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import (array_path, assert_readers_see, blosc, dims, expected_array, load_json,
                       random_frames, read_zarr, settings, split_appends)

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3


def open_stream(s: aqz.StreamSettings, order=None, max_levels: int = 0) -> aqz.ZarrStream:
    """A stream of the seed-era settings `s` with storage_dimension_order
    `order` (dimension names or indices) and max_levels."""
    s.storage_dimension_order = order
    s.max_levels = max_levels
    return aqz.ZarrStream(s)


def write(s: aqz.StreamSettings, frames: np.ndarray, order, pieces=None, max_levels: int = 0):
    st = open_stream(s, order, max_levels)
    raw = frames.tobytes()
    offset = 0
    for size in pieces or [len(raw)]:
        st.append(memoryview(raw[offset:offset + size]))
        offset += size
    assert offset == len(raw)
    st.close()


def permutation(s: aqz.StreamSettings, order) -> list[int]:
    names = [d.name for d in s.dimensions]
    return [names.index(o) for o in order]


# Ragged in every dimension; shards of several chunks.
TCZYX = (("t", 0, 2, 2), ("c", 3, 2, 1), ("z", 5, 2, 2), ("y", 13, 4, 2), ("x", 11, 4, 2))
ORDERS = [("t", "z", "c", "y", "x"), ("t", "c", "z", "x", "y"), ("t", "z", "c", "x", "y")]


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "blosc"])
@pytest.mark.parametrize("split", ["whole", "thirds", "odd-pieces"])
def test_readers_see_the_transposed_input(tmp_path, version, order, compressed, split):
    d = dims(*TCZYX)
    frames = random_frames(2 * 15 + 7, 13, 11, np.uint16)  # a partial last t
    s = settings(tmp_path / "s.zarr", d, version=version,
                 compression=blosc("zstd", 1, 2) if compressed else None)
    pieces = None if split == "whole" else split_appends(split, frames)
    write(s, frames, order, pieces)
    expected = expected_array(frames, d).transpose(permutation(s, order))
    assert_readers_see(array_path(tmp_path / "s.zarr"), expected, version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_planes_compressed_as_they_arrive_when_their_order_is_kept(tmp_path, capfd, debug_log,
                                                                   version):
    # One channel per chunk: moving c past z keeps each chunk's z planes in
    # the order they arrive, so they are compressed as frames come.
    d = dims(("t", 0, 2, 1), ("c", 3, 1, 1), ("z", 5, 2, 2), ("y", 64, 64, 1), ("x", 64, 32, 2))
    frames = random_frames(2 * 15 + 4, 64, 64, np.uint16, seed=7)
    s = settings(tmp_path / "s.zarr", d, version=version, compression=blosc("lz4", 1, 1))
    write(s, frames, ("t", "z", "c", "y", "x"))
    assert "chunks compressed plane by plane" in capfd.readouterr().err
    expected = expected_array(frames, d).transpose(0, 2, 1, 3, 4)
    assert_readers_see(array_path(tmp_path / "s.zarr"), expected, version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_metadata_lists_every_axis_in_storage_order(tmp_path, version):
    d = dims(("t", 0, 2, 2), ("c", 3, 2, 1), ("z", 5, 2, 2, "micrometer", 2.0),
             ("y", 13, 4, 2, "micrometer", 0.5), ("x", 11, 4, 2, "micrometer", 0.25))
    s = settings(tmp_path / "s.zarr", d, version=version)
    write(s, random_frames(15, 13, 11, np.uint16), ("t", "z", "c", "x", "y"))
    store = tmp_path / "s.zarr"
    if version == V3:
        doc = load_json(store / "0" / "zarr.json")
        assert doc["shape"] == [1, 5, 3, 11, 13]
        assert doc["dimension_names"] == ["t", "z", "c", "x", "y"]
        assert doc["chunk_grid"]["configuration"]["chunk_shape"] == [4, 4, 2, 8, 8]
        assert doc["codecs"][0]["configuration"]["chunk_shape"] == [2, 2, 2, 4, 4]
        entry = load_json(store / "zarr.json")["attributes"]["ome"]["multiscales"][0]
    else:
        doc = load_json(store / "0" / ".zarray")
        assert doc["shape"] == [1, 5, 3, 11, 13]
        assert doc["chunks"] == [2, 2, 2, 4, 4]
        entry = load_json(store / ".zattrs")["multiscales"][0]
    assert [a["name"] for a in entry["axes"]] == ["t", "z", "c", "x", "y"]
    assert [a["type"] for a in entry["axes"]] == ["time", "space", "channel", "space", "space"]
    scale = entry["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale == [1.0, 2.0, 1.0, 0.25, 0.5]


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("closed_early", [False, True], ids=["full", "closed-mid-chunk"])
def test_planes_written_in_place_out_of_order_read_back(tmp_path, capfd, debug_log, version,
                                                        closed_early):
    # Uncompressed 4 KiB planes, several per chunk: written plane by plane
    # in place, in the order frames arrive, which storage order scrambles.
    d = dims(("t", 0, 2, 1), ("c", 2, 2, 1), ("z", 3, 2, 1), ("y", 64, 64, 1), ("x", 64, 32, 1))
    n = 2 * 6 + (4 if closed_early else 0)
    frames = random_frames(n, 64, 64, np.uint16, seed=3)
    s = settings(tmp_path / "s.zarr", d, version=version)
    write(s, frames, ("t", "z", "c", "y", "x"))
    assert "chunks written plane by plane" in capfd.readouterr().err
    expected = expected_array(frames, d).transpose(0, 2, 1, 3, 4)
    assert_readers_see(array_path(tmp_path / "s.zarr"), expected, version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_pyramid_levels_are_the_transposed_levels_of_the_acquisition_order(tmp_path, version):
    d = dims(("t", 0, 1, 1), ("c", 2, 1, 1), ("z", 6, 2, 2), ("y", 40, 8, 2), ("x", 28, 8, 2))
    frames = random_frames(2 * 12 + 5, 40, 28, np.uint16, seed=5)
    kwargs = dict(version=version, multiscale=True,
                  downsampling_method=aqz.DownsamplingMethod.MEAN)
    plain = settings(tmp_path / "plain.zarr", d, **kwargs)
    write(plain, frames, None)
    moved = settings(tmp_path / "moved.zarr", d, **kwargs)
    order = ("t", "z", "c", "x", "y")
    write(moved, frames, order)
    perm = permutation(moved, order)
    levels = 0
    while (tmp_path / "plain.zarr" / str(levels)).exists():
        expected = read_zarr(tmp_path / "plain.zarr" / str(levels)).transpose(perm)
        assert_readers_see(tmp_path / "moved.zarr" / str(levels), expected, version)
        levels += 1
    assert levels == 4
    assert not (tmp_path / "moved.zarr" / str(levels)).exists()


@pytest.mark.parametrize("cap", [1, 2, 9])
def test_max_levels_caps_the_downsampled_levels(tmp_path, cap):
    d = dims(("t", 0, 1, 1), ("y", 64, 8, 1), ("x", 64, 8, 1))
    s = settings(tmp_path / "s.zarr", d, multiscale=True)
    write(s, random_frames(2, 64, 64, np.uint16), None, max_levels=cap)
    levels = min(cap, 3) + 1
    entry = load_json(tmp_path / "s.zarr" / "zarr.json")["attributes"]["ome"]["multiscales"][0]
    assert [ds["path"] for ds in entry["datasets"]] == [str(k) for k in range(levels)]
    assert not (tmp_path / "s.zarr" / str(levels)).exists()


@pytest.mark.parametrize("order, message", [
    ([1, 0, 2, 3, 4], "the append dimension 't' (0) must stay first"),
    ([0, 3, 1, 2, 4], "the frame dimensions 'y' (3) and 'x' (4) must stay in the last two places"),
    ([0, 1, 1, 3, 4], "not a permutation of the dimension indices 0..4"),
])
def test_orders_acquire_zarr_refuses_are_refused_naming_the_field(tmp_path, order, message):
    s = settings(tmp_path / "s.zarr", dims(*TCZYX))
    with pytest.raises(ValueError) as info:
        open_stream(s, order)
    text = str(info.value)
    assert "storage_dimension_order is [" + ", ".join(map(str, order)) + "]" in text
    assert message in text
