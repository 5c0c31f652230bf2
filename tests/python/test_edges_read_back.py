"""What readers see at every edge of a layout (ragged y/x, partial chunks
and shards, missing planes, bounded and unbounded arrays), for every type,
both versions, any split of the appends, and in pyramids, whichever way the
stream builds the chunks: compressed plane by plane as the frames arrive
(Blosc above level 0, chunks of several frames, planes of at least 4 KiB),
uncompressed planes written in place in their v3 shards or v2 chunk files
(planes of whole 4 KiB pages), or whole chunks otherwise. Each test checks
from the debug log that the stream built its chunks the way the test means
to cover. Uncompressed chunks written in place also lie where docs/format.md
says: each at its rank in its shard, every v2 chunk file whole (its planes
past the array's edge zeros)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import (DTYPES, array_path, assert_readers_see, blosc, dims, expected_array,
                       random_frames, shard_index, split_appends, stream)
from test_multiscale import METHODS, check_pyramid

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3
# What the debug log says for each way of building chunks.
COMPRESSED_PLANES = "chunks compressed plane by plane"
RAW_PLANES = "chunks written plane by plane"

# Layouts whose last chunks are partial in every way a chunk can be.
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


def check_compressed_round_trip(tmp_path, capfd, d, frames, version, compression, pieces=None):
    store = tmp_path / "s.zarr"
    stream(store, d, frames, pieces=pieces, version=version, compression=compression)
    assert COMPRESSED_PLANES in capfd.readouterr().err
    assert_readers_see(array_path(store), expected_array(frames, d), version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("codec,shuffle", [("lz4", 1), ("zstd", 1), ("lz4", 2), ("zstd", 0)],
                         ids=["lz4-byte", "zstd-byte", "lz4-bit", "zstd-none"])
@pytest.mark.parametrize("name,d,n", GEOMETRIES, ids=[g[0] for g in GEOMETRIES])
def test_compressed_edges_read_back(tmp_path, capfd, debug_log, version, codec, shuffle, name, d,
                                    n):
    h, w = d[-2].array_size_px, d[-1].array_size_px
    frames = mixed_frames(n, h, w, np.uint16, seed=n)
    check_compressed_round_trip(tmp_path, capfd, d, frames, version, blosc(codec, 1, shuffle))


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_compressed_edges_read_back_for_every_dtype(tmp_path, capfd, debug_log, version, dtype):
    name, d, n = GEOMETRIES[0]
    frames = mixed_frames(n, 150, 130, dtype, seed=3)
    check_compressed_round_trip(tmp_path, capfd, d, frames, version, blosc("zstd", 5, 1))


@pytest.mark.parametrize("split", ["thirds", "odd-pieces", "frames-at-once"])
def test_compressed_edges_read_back_for_any_split_of_the_appends(tmp_path, capfd, debug_log,
                                                                  split):
    name, d, n = GEOMETRIES[1]
    frames = mixed_frames(n, 70, 64, np.uint16, seed=11)
    check_compressed_round_trip(tmp_path, capfd, d, frames, V3, blosc("lz4", 1, 1),
                     pieces=split_appends(split, frames))


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("kind", ["mean", "max"])
def test_compressed_pyramid_levels_match_their_method(tmp_path, capfd, debug_log, version, kind):
    d = dims(("t", 0, 4, 1), ("y", 260, 64, 2), ("x", 200, 64, 2))
    frames = mixed_frames(10, 260, 200, np.uint16, seed=5)
    store = tmp_path / "s.zarr"
    stream(store, d, frames, version=version, compression=blosc("lz4", 1, 1), multiscale=True,
           downsampling_method=METHODS[kind])
    assert capfd.readouterr().err.count(COMPRESSED_PLANES) >= 2  # the base and a lower level
    check_pyramid(store, version, kind, np.uint16)
    assert_readers_see(array_path(store, multiscale=True), expected_array(frames, d), version)


def test_level_zero_and_small_planes_read_back_compressed_whole(tmp_path, capfd, debug_log):
    # Blosc level 0 stores data as is; 32x32 uint8 planes are under 4 KiB.
    for compression, d in ((blosc("lz4", 0, 1), GEOMETRIES[0][1]),
                           (blosc("lz4", 1, 1), dims(("t", 0, 4, 1), ("y", 64, 32, 2), ("x", 64, 32, 2)))):
        h, w = d[-2].array_size_px, d[-1].array_size_px
        frames = mixed_frames(9, h, w, np.uint8, seed=1)
        stream(tmp_path / "s.zarr", d, frames, compression=compression)
        assert COMPRESSED_PLANES not in capfd.readouterr().err
        assert_readers_see(array_path(tmp_path / "s.zarr"), expected_array(frames, d), V3)


# --- uncompressed chunks ---------------------------------------------------

# The same layouts, and 128 KiB planes: an uncompressed chunk of 6 frames is
# then written in groups of 4 and 2.
RAW_GEOMETRIES = [
    GEOMETRIES[0],
    ("tyx-groups", dims(("t", 0, 6, 1), ("y", 300, 256, 1), ("x", 260, 256, 2)), 15),
    *GEOMETRIES[1:],
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


def check_raw_round_trip(tmp_path, capfd, d, frames, pieces=None, version=V3):
    store = tmp_path / "s.zarr"
    stream(store, d, frames, pieces=pieces, version=version)
    assert RAW_PLANES in capfd.readouterr().err
    assert_readers_see(array_path(store), expected_array(frames, d), version)
    if version == V3:
        check_layout(store, d, len(frames), frames.dtype.itemsize)
    else:
        check_chunk_files(store, d, len(frames), frames.dtype.itemsize)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("name,d,n", RAW_GEOMETRIES, ids=[g[0] for g in RAW_GEOMETRIES])
def test_uncompressed_edges_read_back_with_chunks_in_place(tmp_path, capfd, debug_log, name, d,
                                                           n, version):
    check_raw_round_trip(tmp_path, capfd, d, frames_for(d, n, seed=n), version=version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_uncompressed_edges_read_back_for_every_dtype(tmp_path, capfd, debug_log, dtype, version):
    # 64 x 64 planes: 4 KiB for 1-byte types, up to 32 KiB for 8-byte ones
    name, d, n = RAW_GEOMETRIES[0]
    check_raw_round_trip(tmp_path, capfd, d, frames_for(d, n, dtype, seed=3), version=version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("split", ["thirds", "odd-pieces", "frames-at-once"])
def test_uncompressed_edges_read_back_for_any_split_of_the_appends(tmp_path, capfd, debug_log,
                                                                    split, version):
    name, d, n = RAW_GEOMETRIES[1]
    frames = frames_for(d, n, seed=11)
    check_raw_round_trip(tmp_path, capfd, d, frames, pieces=split_appends(split, frames),
                     version=version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_no_frames_leave_no_chunks(tmp_path, capfd, debug_log, version):
    name, d, n = RAW_GEOMETRIES[0]
    store = tmp_path / "s.zarr"
    stream(store, d, frames_for(d, 0), version=version)
    assert RAW_PLANES in capfd.readouterr().err
    root = array_path(store)
    assert not [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
                and p.name != "zarr.json"]


@pytest.mark.parametrize("case", ["planes-not-whole-pages", "one-frame-chunks"])
def test_uncompressed_chunks_of_other_shapes_read_back_written_whole(tmp_path, capfd, debug_log,
                                                                     case):
    d, version = RAW_GEOMETRIES[0][1], V3
    if case == "planes-not-whole-pages":  # 50 x 50 x 2 bytes
        d = dims(("t", 0, 5, 2), ("y", 150, 50, 2), ("x", 130, 50, 2))
    else:
        d = dims(("t", 0, 1, 2), ("y", 150, 64, 2), ("x", 130, 64, 2))
    frames = frames_for(d, 12, seed=2)
    store = tmp_path / "s.zarr"
    stream(store, d, frames, version=version)
    assert RAW_PLANES not in capfd.readouterr().err
    assert_readers_see(array_path(store), expected_array(frames, d), version)
