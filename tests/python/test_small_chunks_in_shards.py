"""Small encoded chunks of a v3 shard (under 256 KiB: many small chunks, or
chunks that compress well) read back, and lie compactly in their shard: back
to back in runs of at most 4 MiB (the packs the stream writes at once), a run
of 256 KiB or more followed by the next on a 4 KiB boundary (it went out by
direct I/O), shorter runs unpadded. A shard left open at close (an unbounded
array stopped mid-shard) gets its chunks too."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import (array_path, assert_readers_see, blosc, dims, expected_array,
                       random_frames, shard_index, stream)

V3 = aqz.ZarrVersion.V3
PACK = 4 << 20
DIRECT_MIN = 256 << 10
EMPTY = (2**64 - 1, 2**64 - 1)


def shards(store):
    for path in sorted((array_path(store) / "c").rglob("*")):
        if path.is_file():
            yield path


def check_packed(store, chunks_per_shard: int) -> dict:
    """Every shard's chunks lie in runs of back-to-back chunks (the packs),
    none overlapping another, each run inside one pack's size; a run that
    follows another starts on a 4 KiB boundary if the one before it was
    written by direct I/O. Returns counts for the caller to check."""
    seen = {"shards": 0, "chunks": 0, "runs": 0}
    for path in shards(store):
        data = path.read_bytes()
        index = [e for e in shard_index(data, chunks_per_shard) if e != EMPTY]
        body = len(data) - (16 * chunks_per_shard + 4)
        spans = sorted(index)
        runs = []
        for offset, nbytes in spans:
            assert offset + nbytes <= body, path
            if runs and offset == runs[-1][1]:
                runs[-1][1] = offset + nbytes
            else:
                assert not runs or offset >= runs[-1][1], f"{path}: chunks overlap"
                runs.append([offset, offset + nbytes])
        for (start, end), following in zip(runs, runs[1:]):
            length = end - start
            if length < DIRECT_MIN:
                continue  # a large chunk written alone, or a small last pack
            assert length <= PACK, path
            assert following[0] % 4096 == 0 and following[0] - end < 4096, path
        seen["shards"] += 1
        seen["chunks"] += len(index)
        seen["runs"] += len(runs)
    return seen


# 32 KiB chunks of random data (incompressible), 512 of them per shard: about
# 16 MiB per shard, so several full packs and a last one.
MANY_SMALL = dims(("t", 0, 1, 1), ("c", 2, 1, 1), ("z", 8, 4, 2),
                  ("y", 512, 64, 8), ("x", 1024, 64, 16))


def test_many_small_chunks_go_out_in_a_few_packs(tmp_path):
    frames = random_frames(2 * 2 * 8, 512, 1024, np.uint16, seed=5)
    store = tmp_path / "s.zarr"
    stream(store, MANY_SMALL, frames, compression=blosc())
    assert_readers_see(array_path(store), expected_array(frames, MANY_SMALL), V3)
    seen = check_packed(store, 2 * 8 * 16)
    assert seen["shards"] == 2 * 2  # t 2 x c 2
    assert seen["chunks"] == 4 * 2 * 8 * 16
    # about 16 MiB of chunks per shard: 4 or 5 packs each (runs apart by
    # their padding), not 512 writes
    assert 3 * seen["shards"] <= seen["runs"] <= 6 * seen["shards"]


def test_a_shard_left_open_at_close_gets_its_packed_chunks(tmp_path):
    # 2 channels of 8 z-planes per time point, stopped after 1 time point
    # and 5 planes of the second channel: that shard misses a z-chunk.
    frames = random_frames(8 + 5, 512, 1024, np.uint16, seed=6)
    store = tmp_path / "s.zarr"
    stream(store, MANY_SMALL, frames, compression=blosc())
    assert_readers_see(array_path(store), expected_array(frames, MANY_SMALL), V3)
    seen = check_packed(store, 2 * 8 * 16)
    assert seen["chunks"] == (2 + 2) * 8 * 16  # the padded z-chunk is stored too


def test_small_and_large_chunks_share_a_shard(tmp_path):
    # 512 KiB chunks: random ones stay large (written alone, by direct I/O),
    # zero ones compress to a few hundred bytes (packed).
    d = dims(("t", 0, 4, 1), ("y", 512, 256, 2), ("x", 1024, 256, 4))
    frames = random_frames(9, 512, 1024, np.uint16, seed=7)
    frames[:, :, 512:] = 0
    frames[:, 256:, :256] = 0
    store = tmp_path / "s.zarr"
    stream(store, d, frames, compression=blosc())
    assert_readers_see(array_path(store), expected_array(frames, d), V3)
    check_packed(store, 8)
    sizes = [n for path in shards(store)
             for _, n in shard_index(path.read_bytes(), 8) if n != EMPTY[1]]
    assert any(n >= DIRECT_MIN for n in sizes) and any(n < 4096 for n in sizes)


def test_tiny_chunks_are_not_padded(tmp_path):
    # 8 uncompressed chunks of 64 bytes: one pack of 512 bytes, no padding.
    d = dims(("t", 0, 2, 2), ("y", 8, 4, 2), ("x", 8, 4, 2))
    frames = random_frames(4, 8, 8, np.uint16, seed=8)
    store = tmp_path / "s.zarr"
    stream(store, d, frames)
    assert_readers_see(array_path(store), expected_array(frames, d), V3)
    for path in shards(store):
        data = path.read_bytes()
        index = shard_index(data, 8)
        assert len(data) == sum(n for _, n in index) + 16 * 8 + 4
        assert sorted(o for o, _ in index) == [64 * i for i in range(8)]


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64],
                         ids=lambda t: np.dtype(t).name)
def test_every_layout_of_small_chunks_reads_back(tmp_path, dtype):
    # ragged y/x and a bounded z that ends mid-chunk, for several types
    d = dims(("t", 0, 1, 1), ("z", 7, 3, 3), ("y", 200, 48, 4), ("x", 150, 40, 4))
    frames = random_frames(7 * 2 + 3, 200, 150, dtype, seed=9)
    store = tmp_path / "s.zarr"
    stream(store, d, frames, compression=blosc("zstd"))
    assert_readers_see(array_path(store), expected_array(frames, d), V3)
    n = math.prod(x.shard_size_chunks for x in d)
    seen = check_packed(store, n)
    # y 5 x x 4 chunks per z-chunk; z 3 z-chunks in each of t 0 and 1; the
    # 3 frames of t 2 fill (and close pads) only its first z-chunk
    assert seen["chunks"] == (2 * 3 + 1) * 5 * 4
