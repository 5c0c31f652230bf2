"""Uncompressed chunks written plane by plane, in place in their v3 shards or
v2 chunk files, as the frames arrive (a filesystem store; planes of whole 4
KiB pages; chunks of several frames): what readers see at every edge, for
every type and any split of the appends; where each chunk lies in its shard,
and that every v2 chunk file is whole (its planes past the array's edge
zeros); and the cases that write whole chunks instead. Each test checks from
the debug log which path the stream took."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import (DTYPES, array_path, assert_readers_see, dims, expected_array,
                       random_frames, shard_index, split_appends, stream)
from test_plane_compression import GEOMETRIES as COMPRESSED_GEOMETRIES

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3
SAID = "chunks written plane by plane"

# The geometries of the compressed-planes tests (ragged y/x and shards,
# missing planes, two channels per chunk, bounded), and 128 KiB planes: a
# chunk of 6 frames is then written in groups of 4 and 2.
GEOMETRIES = [
    COMPRESSED_GEOMETRIES[0],
    ("tyx-groups", dims(("t", 0, 6, 1), ("y", 300, 256, 1), ("x", 260, 256, 2)), 15),
    *COMPRESSED_GEOMETRIES[1:],
]


def frames_for(d, n: int, dtype=np.uint16, seed: int = 0) -> np.ndarray:
    return random_frames(n, d[-2].array_size_px, d[-1].array_size_px, dtype, seed=seed)


def check_layout(store, d, n_frames: int, itemsize: int) -> None:
    """Every shard holds its chunks at (their rank among the shard's chunks
    inside the array) x (chunk bytes), then the index. Only the last row of
    an unbounded array, which the frames may not fill, may miss chunks."""
    chunk = [x.chunk_size_px for x in d]
    shard = [x.shard_size_chunks for x in d]
    sizes = [x.array_size_px for x in d]
    partial_row = None
    if sizes[0] == 0:  # unbounded append dimension: as far as the frames go
        inner = math.prod(sizes[1:-2])
        sizes[0] = math.ceil(n_frames / inner)
        row_frames = inner * chunk[0] * shard[0]
        if n_frames % row_frames:
            partial_row = n_frames // row_frames
    chunk_bytes = math.prod(chunk) * itemsize
    counts = [math.ceil(s / c) for s, c in zip(sizes, chunk)]
    shard_counts = [math.ceil(c / s) for c, s in zip(counts, shard)]
    checked = 0
    for key in itertools.product(*(range(s) for s in shard_counts)):
        path = array_path(store) / "c" / "/".join(map(str, key))
        if key[0] == partial_row and not path.exists():
            continue
        data = path.read_bytes()
        index = shard_index(data, math.prod(shard))
        # the chunks of this shard inside the array, in index (C) order
        inside = [all(k * s + j < c for k, s, j, c in zip(key, shard, local, counts))
                  for local in itertools.product(*(range(s) for s in shard))]
        rank, end = 0, 0
        for present, (offset, nbytes) in zip(inside, index):
            if present and (offset, nbytes) != (2**64 - 1, 2**64 - 1):
                assert (offset, nbytes) == (rank * chunk_bytes, chunk_bytes), path
                end = max(end, offset + nbytes)
            else:
                assert present and key[0] == partial_row or not present, path
                assert (offset, nbytes) == (2**64 - 1, 2**64 - 1), path
            rank += present
        assert len(data) == end + 16 * math.prod(shard) + 4, path
        checked += 1
    assert checked > 0


def check_chunk_files(store, d, n_frames: int, itemsize: int) -> None:
    """v2: every chunk that holds frames is a file of a whole chunk's bytes,
    and no other chunk file exists."""
    chunk = [x.chunk_size_px for x in d]
    sizes = [x.array_size_px for x in d]
    frames_per_t = math.prod(sizes[1:-2])
    if sizes[0] == 0:
        sizes[0] = math.ceil(n_frames / frames_per_t)
    counts = [math.ceil(s / c) for s, c in zip(sizes, chunk)]
    chunk_bytes = math.prod(chunk) * itemsize
    root = array_path(store)
    files = {p.relative_to(root) for p in root.rglob("*")
             if p.is_file() and not p.name.startswith(".")}
    expected = set()
    for key in itertools.product(*(range(c) for c in counts)):
        # the chunk's first frame: its first index along each outer dimension
        first = np.ravel_multi_index([k * c for k, c in zip(key[:-2], chunk[:-2])],
                                     sizes[:-2])
        if first < n_frames:
            expected.add(Path(*map(str, key)))
    assert files == expected
    for rel in files:
        assert (root / rel).stat().st_size == chunk_bytes, rel


def check_round_trip(tmp_path, capfd, d, frames, pieces=None, version=V3):
    store = tmp_path / "s.zarr"
    stream(store, d, frames, pieces=pieces, version=version)
    assert SAID in capfd.readouterr().err
    assert_readers_see(array_path(store), expected_array(frames, d), version)
    if version == V3:
        check_layout(store, d, len(frames), frames.dtype.itemsize)
    else:
        check_chunk_files(store, d, len(frames), frames.dtype.itemsize)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("name,d,n", GEOMETRIES, ids=[g[0] for g in GEOMETRIES])
def test_edges_round_trip_and_chunks_lie_in_place(tmp_path, capfd, debug_log, name, d, n,
                                                  version):
    check_round_trip(tmp_path, capfd, d, frames_for(d, n, seed=n), version=version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_every_dtype_round_trips(tmp_path, capfd, debug_log, dtype, version):
    # 64 x 64 planes: 4 KiB for 1-byte types, up to 32 KiB for 8-byte ones
    name, d, n = GEOMETRIES[0]
    check_round_trip(tmp_path, capfd, d, frames_for(d, n, dtype, seed=3), version=version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("split", ["thirds", "odd-pieces", "frames-at-once"])
def test_any_split_of_the_appends(tmp_path, capfd, debug_log, split, version):
    name, d, n = GEOMETRIES[1]
    frames = frames_for(d, n, seed=11)
    check_round_trip(tmp_path, capfd, d, frames, pieces=split_appends(split, frames),
                     version=version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_no_frames_leave_no_chunks(tmp_path, capfd, debug_log, version):
    name, d, n = GEOMETRIES[0]
    store = tmp_path / "s.zarr"
    stream(store, d, frames_for(d, 0), version=version)
    assert SAID in capfd.readouterr().err
    root = array_path(store)
    assert not [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
                and p.name != "zarr.json"]


@pytest.mark.parametrize("case", ["planes-not-whole-pages", "one-frame-chunks"])
def test_other_chunks_are_written_whole(tmp_path, capfd, debug_log, case):
    d, version = GEOMETRIES[0][1], V3
    if case == "planes-not-whole-pages":  # 50 x 50 x 2 bytes
        d = dims(("t", 0, 5, 2), ("y", 150, 50, 2), ("x", 130, 50, 2))
    else:
        d = dims(("t", 0, 1, 2), ("y", 150, 64, 2), ("x", 130, 64, 2))
    frames = frames_for(d, 12, seed=2)
    store = tmp_path / "s.zarr"
    stream(store, d, frames, version=version)
    assert SAID not in capfd.readouterr().err
    assert_readers_see(array_path(store), expected_array(frames, d), version)
