"""Everything streamed reads back identically with zarr-python and tensorstore."""

from __future__ import annotations

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import (DTYPES, array_path, assert_readers_see, blosc, dims, expected_array,
                       load_json, random_frames, settings, stream, zstd)

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3

CODECS = {
    "raw": None,
    "lz4-shuffle": blosc("lz4", 1, 1),
    "zstd-bitshuffle": blosc("zstd", 3, 2),
    "lz4-noshuffle-l9": blosc("lz4", 9, 0),
    "zstd-l0": blosc("zstd", 0, 1),
    "zstd-alone-l0": zstd(0),
    "zstd-alone-l3": zstd(3),
    "zstd-alone-l22": zstd(22),
}


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("codec", list(CODECS), ids=list(CODECS))
def test_every_dtype_codec_and_version_round_trips(tmp_path, version, dtype, codec):
    d = dims(("t", 0, 3, 2), ("y", 21, 8, 2), ("x", 30, 16, 1))
    frames = random_frames(7, 21, 30, dtype, seed=hash((codec, np.dtype(dtype).name)) % 1000)
    stream(tmp_path / "s.zarr", d, frames, version=version, compression=CODECS[codec])
    assert_readers_see(array_path(tmp_path / "s.zarr"), expected_array(frames, d), version)


# Geometries: (name, dimensions, frames to append). Sizes are chosen so that
# chunks and shards are ragged in every dimension.
GEOMETRIES = [
    ("3d-unbounded-ragged", dims(("t", 0, 4, 3), ("y", 19, 5, 2), ("x", 23, 7, 3)), 10),
    ("3d-bounded-exact", dims(("t", 6, 3, 2), ("y", 16, 8, 2), ("x", 16, 8, 2)), 6),
    ("3d-bounded-ragged", dims(("t", 7, 3, 2), ("y", 17, 8, 2), ("x", 9, 4, 3)), 7),
    ("3d-one-chunk", dims(("t", 0, 100, 1), ("y", 12, 64, 1), ("x", 10, 64, 1)), 5),
    ("3d-pixel-chunks", dims(("t", 0, 1, 1), ("y", 5, 1, 2), ("x", 6, 1, 4)), 3),
    ("4d-tcyx", dims(("t", 0, 2, 2), ("c", 3, 2, 1), ("y", 13, 4, 2), ("x", 11, 4, 2)), 3 * 3 + 2),
    ("4d-bounded-zyx", dims(("z", 9, 4, 2), ("c", 2, 1, 2), ("y", 10, 3, 2), ("x", 8, 5, 1)), 18),
    ("5d-tczyx", dims(("t", 0, 1, 2), ("c", 2, 1, 1), ("z", 5, 2, 2), ("y", 9, 4, 2), ("x", 7, 4, 2)), 2 * 5 * 2 + 3),
    ("5d-bounded", dims(("t", 3, 2, 1), ("c", 2, 2, 1), ("z", 3, 2, 1), ("y", 8, 4, 1), ("x", 8, 4, 1)), 18),
    ("6d", dims(("t", 0, 2, 1), ("p", 2, 1, 1), ("c", 2, 2, 1), ("z", 3, 2, 2), ("y", 6, 4, 1), ("x", 5, 2, 2)), 2 * 2 * 3 + 5),
]


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("name,d,n", GEOMETRIES, ids=[g[0] for g in GEOMETRIES])
def test_ragged_geometries_round_trip(tmp_path, version, name, d, n):
    h, w = d[-2].array_size_px, d[-1].array_size_px
    frames = random_frames(n, h, w, np.uint16, seed=n)
    stream(tmp_path / "s.zarr", d, frames, version=version, compression=blosc("zstd", 1, 1))
    assert_readers_see(array_path(tmp_path / "s.zarr"), expected_array(frames, d), version)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("name,d,n", GEOMETRIES, ids=[g[0] for g in GEOMETRIES])
def test_ragged_geometries_round_trip_with_zstd_alone(tmp_path, version, name, d, n):
    h, w = d[-2].array_size_px, d[-1].array_size_px
    frames = random_frames(n, h, w, np.uint16, seed=n)
    stream(tmp_path / "s.zarr", d, frames, version=version, compression=zstd(1))
    assert_readers_see(array_path(tmp_path / "s.zarr"), expected_array(frames, d), version)


@pytest.mark.parametrize("level", [0, 3, 22])
def test_zstd_alone_is_described_as_acquire_zarr_0_10_describes_it(tmp_path, level):
    # v3 as acquire-zarr 0.10 writes it (the level as given, 0 included, and
    # no checksum); v2 as numcodecs' Zstd, which 0.10 (v3 only) never wrote.
    d = dims(("t", 0, 2, 1), ("y", 8, 4, 2), ("x", 8, 4, 1))
    frames = random_frames(3, 8, 8, np.uint16)
    stream(tmp_path / "v3.zarr", d, frames, version=V3, compression=zstd(level))
    sharding = load_json(array_path(tmp_path / "v3.zarr") / "zarr.json")["codecs"][0]
    assert sharding["configuration"]["codecs"] == [
        {"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "zstd", "configuration": {"level": level, "checksum": False}}]
    stream(tmp_path / "v2.zarr", d, frames, version=V2, compression=zstd(level))
    zarray = load_json(array_path(tmp_path / "v2.zarr") / ".zarray")
    assert zarray["compressor"] == {"id": "zstd", "level": level}
    assert zarray["filters"] is None


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("split", ["thirds", "odd-pieces", "straddling", "byte-at-a-time-start"])
def test_partial_frame_appends(tmp_path, version, split):
    d = dims(("t", 0, 2, 2), ("y", 9, 4, 2), ("x", 11, 4, 2))
    frames = random_frames(5, 9, 11, np.uint16, seed=3)
    frame_bytes = 9 * 11 * 2
    total = 5 * frame_bytes
    if split == "thirds":
        pieces = [frame_bytes // 3, frame_bytes // 3, frame_bytes - 2 * (frame_bytes // 3)] * 5
    elif split == "odd-pieces":
        pieces = [37] * (total // 37) + [total % 37]
    elif split == "straddling":
        pieces = [frame_bytes + 5, frame_bytes * 2 - 10, frame_bytes + 5, frame_bytes]
    else:
        pieces = [1] * 50 + [total - 50]
    stream(tmp_path / "s.zarr", d, frames, pieces=[p for p in pieces if p], version=version)
    assert_readers_see(array_path(tmp_path / "s.zarr"), expected_array(frames, d), version)


def test_partial_frame_at_close_is_padded_with_zeros(tmp_path):
    d = dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    frames = random_frames(2, 4, 4, np.uint16)
    s = settings(tmp_path / "s.zarr", d)
    with aqz.ZarrStream(s) as st:
        st.append(frames[0])
        st.append(frames[1].tobytes()[:10])  # 5 pixels of the second frame
    expected = np.zeros((2, 4, 4), np.uint16)
    expected[0] = frames[0]
    expected[1].flat[:5] = frames[1].flat[:5]
    assert_readers_see(tmp_path / "s.zarr" / "0", expected, V3)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_multi_frame_block_in_one_append(tmp_path, version):
    d = dims(("t", 0, 4, 2), ("c", 2, 1, 1), ("y", 12, 5, 2), ("x", 10, 5, 2))
    frames = random_frames(2 * 9, 12, 10, np.int32)
    s = settings(tmp_path / "s.zarr", d, dtype=np.int32, version=version)
    with aqz.ZarrStream(s) as st:
        st.append(frames.reshape(9, 2, 12, 10))  # a whole (t, c, y, x) block
    assert_readers_see(tmp_path / "s.zarr" / "0", expected_array(frames, d), version)


def test_non_contiguous_arrays_are_written_in_logical_order(tmp_path):
    d = dims(("t", 0, 2, 1), ("y", 6, 4, 1), ("x", 8, 4, 1))
    base = random_frames(3, 8, 6, np.uint16)
    transposed = base.transpose(0, 2, 1)  # (3, 6, 8), not C-contiguous
    strided = random_frames(3, 12, 16, np.uint16, seed=9)[:, ::2, ::2]
    assert not transposed.flags.c_contiguous and not strided.flags.c_contiguous
    s = settings(tmp_path / "s.zarr", d)
    with aqz.ZarrStream(s) as st:
        st.append(transposed)
        st.append(strided)
    expected = np.concatenate([np.ascontiguousarray(transposed), np.ascontiguousarray(strided)])
    assert_readers_see(tmp_path / "s.zarr" / "0", expected, V3)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_full_bounded_array_refuses_more_and_keeps_earlier_data(tmp_path, version):
    d = dims(("t", 4, 3, 2), ("y", 6, 4, 1), ("x", 5, 4, 1))
    frames = random_frames(6, 6, 5, np.uint16)
    s = settings(tmp_path / "s.zarr", d, version=version)
    st = aqz.ZarrStream(s)
    st.append(frames[:3])
    with pytest.raises(ValueError, match=r"array is full.*'t'"):
        st.append(frames[3:6])  # one frame fits, two are refused
    with pytest.raises(ValueError, match="array is full"):
        st.append(frames[5])
    st.close()
    assert_readers_see(tmp_path / "s.zarr" / "0", frames[:4], version)


@pytest.mark.parametrize("threads", [1, 3, 8])
def test_any_thread_count_writes_the_same_data(tmp_path, threads):
    d = dims(("t", 0, 2, 2), ("y", 33, 8, 2), ("x", 40, 8, 2))
    frames = random_frames(9, 33, 40, np.uint16, seed=threads)
    stream(tmp_path / "s.zarr", d, frames, max_threads=threads, compression=blosc())
    assert_readers_see(tmp_path / "s.zarr" / "0", expected_array(frames, d), V3)


def test_shard_size_zero_is_treated_as_one(tmp_path):
    d = dims(("t", 0, 2, 0), ("y", 8, 4, 0), ("x", 8, 4, 0))
    frames = random_frames(3, 8, 8, np.uint8)
    stream(tmp_path / "s.zarr", d, frames)
    assert_readers_see(tmp_path / "s.zarr" / "0", expected_array(frames, d), V3)
    import zarr
    a = zarr.open_array(str(tmp_path / "s.zarr" / "0"), mode="r")
    assert a.shards == (2, 4, 4)


def test_empty_stream_has_zero_extent(tmp_path):
    d = dims(("t", 0, 2, 1), ("y", 8, 4, 1), ("x", 8, 4, 1))
    with aqz.ZarrStream(settings(tmp_path / "s.zarr", d)):
        pass
    assert_readers_see(tmp_path / "s.zarr" / "0", np.zeros((0, 8, 8), np.uint16), V3)


def test_bytes_and_memoryview_are_appended_raw(tmp_path):
    d = dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    frames = random_frames(3, 4, 4, np.uint16)
    with aqz.ZarrStream(settings(tmp_path / "s.zarr", d)) as st:
        st.append(frames[0].tobytes())
        st.append(bytearray(frames[1].tobytes()))
        st.append(memoryview(frames[2].tobytes()))
    assert_readers_see(tmp_path / "s.zarr" / "0", frames, V3)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_whole_page_uncompressed_chunks_read_back_with_ragged_shards(tmp_path, version):
    # 2 x 32 x 64 uint16 = 8 KiB chunks: whole pages, written with O_DIRECT
    # where the filesystem supports it; ragged shards and a partial last
    # chunk mix direct and buffered writes in one file.
    d = dims(("t", 0, 2, 3), ("y", 96, 32, 2), ("x", 200, 64, 2))
    frames = random_frames(9, 96, 200, np.uint16, seed=11)
    stream(tmp_path / "s.zarr", d, frames, version=version, max_threads=3)
    assert_readers_see(tmp_path / "s.zarr" / "0", expected_array(frames, d), version)
