"""Chunks compressed plane by plane as the frames arrive (Blosc at a level
above 0, chunks of several frames, planes of at least 4 KiB): what readers see
at every edge, for every type, both versions, any split of the appends, and in
pyramids. The chunk layout of these tests makes the stream take that path;
each test checks the stream said so."""

from __future__ import annotations

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import (DTYPES, array_path, assert_readers_see, blosc, dims, expected_array,
                       random_frames, split_appends, stream)
from test_multiscale import METHODS, check_pyramid

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3
SAID = "chunks compressed plane by plane"

GEOMETRIES = [
    # y and x ragged at the frame's edges; the last t-chunk holds 2 of 5 frames
    ("tyx-ragged", dims(("t", 0, 5, 2), ("y", 150, 64, 2), ("x", 130, 64, 2)), 12),
    # z of 7 in chunks of 3: the last z-chunk misses planes inside the chunk
    ("tzyx-missing-planes", dims(("t", 0, 2, 1), ("z", 7, 3, 2), ("y", 70, 64, 1), ("x", 64, 64, 1)), 7 * 3 + 4),
    ("tczyx", dims(("t", 0, 1, 1), ("c", 3, 2, 1), ("z", 5, 2, 2), ("y", 64, 64, 1), ("x", 96, 64, 2)), 15 * 2 + 7),
    ("zyx-bounded", dims(("z", 11, 4, 2), ("y", 64, 64, 1), ("x", 64, 64, 1)), 11),
]


def mixed_frames(n: int, height: int, width: int, dtype, seed: int) -> np.ndarray:
    """Random frames (incompressible) alternating with smooth ones."""
    frames = random_frames(n, height, width, dtype, seed=seed)
    yy, xx = np.mgrid[0:height, 0:width]
    for i in range(0, n, 2):
        frames[i] = ((yy + 3 * xx + 7 * i) % 97).astype(dtype)
    return frames


def check_round_trip(tmp_path, capfd, d, frames, version, compression, pieces=None):
    store = tmp_path / "s.zarr"
    stream(store, d, frames, pieces=pieces, version=version, compression=compression)
    assert SAID in capfd.readouterr().err
    assert_readers_see(array_path(store), expected_array(frames, d), version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("codec,shuffle", [("lz4", 1), ("zstd", 1), ("lz4", 2), ("zstd", 0)],
                         ids=["lz4-byte", "zstd-byte", "lz4-bit", "zstd-none"])
@pytest.mark.parametrize("name,d,n", GEOMETRIES, ids=[g[0] for g in GEOMETRIES])
def test_edges_round_trip(tmp_path, capfd, debug_log, version, codec, shuffle, name, d, n):
    h, w = d[-2].array_size_px, d[-1].array_size_px
    frames = mixed_frames(n, h, w, np.uint16, seed=n)
    check_round_trip(tmp_path, capfd, d, frames, version, blosc(codec, 1, shuffle))


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_every_dtype_round_trips(tmp_path, capfd, debug_log, version, dtype):
    name, d, n = GEOMETRIES[0]
    frames = mixed_frames(n, 150, 130, dtype, seed=3)
    check_round_trip(tmp_path, capfd, d, frames, version, blosc("zstd", 5, 1))


@pytest.mark.parametrize("split", ["thirds", "odd-pieces", "frames-at-once"])
def test_any_split_of_the_appends(tmp_path, capfd, debug_log, split):
    name, d, n = GEOMETRIES[1]
    frames = mixed_frames(n, 70, 64, np.uint16, seed=11)
    check_round_trip(tmp_path, capfd, d, frames, V3, blosc("lz4", 1, 1),
                     pieces=split_appends(split, frames))


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("kind", ["mean", "max"])
def test_pyramid_levels(tmp_path, capfd, debug_log, version, kind):
    d = dims(("t", 0, 4, 1), ("y", 260, 64, 2), ("x", 200, 64, 2))
    frames = mixed_frames(10, 260, 200, np.uint16, seed=5)
    store = tmp_path / "s.zarr"
    stream(store, d, frames, version=version, compression=blosc("lz4", 1, 1), multiscale=True,
           downsampling_method=METHODS[kind])
    assert capfd.readouterr().err.count(SAID) >= 2  # the base and a lower level
    check_pyramid(store, version, kind, np.uint16)
    assert_readers_see(array_path(store, multiscale=True), expected_array(frames, d), version)


def test_level_zero_and_small_planes_compress_whole_chunks(tmp_path, capfd, debug_log):
    # Blosc level 0 stores data as is; 32x32 uint8 planes are under 4 KiB.
    for compression, d in ((blosc("lz4", 0, 1), GEOMETRIES[0][1]),
                           (blosc("lz4", 1, 1), dims(("t", 0, 4, 1), ("y", 64, 32, 2), ("x", 64, 32, 2)))):
        h, w = d[-2].array_size_px, d[-1].array_size_px
        frames = mixed_frames(9, h, w, np.uint8, seed=1)
        stream(tmp_path / "s.zarr", d, frames, compression=compression)
        assert SAID not in capfd.readouterr().err
        assert_readers_see(array_path(tmp_path / "s.zarr"), expected_array(frames, d), V3)
