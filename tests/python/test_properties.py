"""Property-based tests (hypothesis): random small layouts, data types, Zarr
versions, compression and random splits of the frame bytes into appends all
read back with zarr-python exactly as appended.

What a reader must see (README "Semantics worth knowing", API.md):
- frames fill the outer dimensions in C order; missing frames of the last
  append index read as 0; an unbounded append dimension's extent is what the
  frames cover;
- an incomplete last frame is kept: at close it is padded with zeros and
  written as a whole frame (src/stream/stream.cpp logs a warning);
- a full bounded array refuses the bytes that do not fit (ValueError) and
  keeps everything appended before.

Every example gets its own directory from tmp_path_factory (function-scoped
fixtures do not mix with @given) and deletes it afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import acquire_zarr as aqz
from streamkit import DTYPES, blosc, dims, expected_array, random_frames, read_zarr, settings

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3

# AZ_PROPERTY_EXAMPLES=500 runs a longer search (the default keeps the file
# well under a minute on 2 cores).
SCALE = float(os.environ.get("AZ_PROPERTY_EXAMPLES", "40")) / 40


def budget(examples: int) -> hsettings:
    return hsettings(max_examples=max(1, int(examples * SCALE)), deadline=None, print_blob=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------ strategies

@st.composite
def ragged_dim(draw, name: str, max_chunk: int, max_chunks: int):
    """(name, size, chunk, shard): the size is usually not a multiple of the
    chunk (and the chunk may exceed the size); shard 0 means 1."""
    chunk = draw(st.integers(1, max_chunk))
    count = draw(st.integers(1, max_chunks))
    short = draw(st.integers(0, chunk - 1))
    size = max(1, chunk * count - short)
    if draw(st.integers(0, 9)) == 0:
        size = draw(st.integers(1, chunk))  # one chunk larger than the array
    shard = draw(st.integers(0, 3))
    return (name, size, chunk, shard)


@st.composite
def layouts(draw, min_dims: int = 3, max_dims: int = 5, middle=("c", "z")):
    """Dimension specs: append dimension 't' first (bounded or not), then up to
    two middle dimensions, then y and x."""
    n = draw(st.integers(min_dims, max_dims))
    t_chunk = draw(st.integers(1, 3))
    t_size = draw(st.sampled_from([0, 0, 1, 2, 3, 5]))
    specs = [("t", t_size, t_chunk, draw(st.integers(0, 3)))]
    for name in middle[: n - 3]:
        specs.append(draw(ragged_dim(name, max_chunk=3, max_chunks=2)))
    specs.append(draw(ragged_dim("y", max_chunk=7, max_chunks=3)))
    specs.append(draw(ragged_dim("x", max_chunk=7, max_chunks=3)))
    return specs


compressions = st.one_of(
    st.none(),
    st.builds(lambda codec, level, shuffle: ("blosc", codec, level, shuffle),
              st.sampled_from(["lz4", "zstd"]), st.integers(0, 9), st.integers(0, 2)),
)


def make_compression(spec):
    if spec is None:
        return None
    _, codec, level, shuffle = spec
    return blosc(codec, level, shuffle)


def frames_per_append_index(specs) -> int:
    return int(np.prod([s[1] for s in specs[1:-2]], dtype=np.int64)) if len(specs) > 3 else 1


def capacity(specs) -> int | None:
    return specs[0][1] * frames_per_append_index(specs) if specs[0][1] else None


@st.composite
def pieces(draw, total: int, frame_bytes: int, max_cuts: int = 10):
    """Sizes of consecutive appends covering `total` bytes: arbitrary cut
    points (zero-length appends included) mixed with frame boundaries."""
    n_frames = total // frame_bytes
    cut = st.one_of(st.integers(0, total),
                    st.integers(0, n_frames).map(lambda k: k * frame_bytes))
    cuts = sorted(draw(st.lists(cut, max_size=max_cuts)))
    bounds = [0] + cuts + [total]
    return [b - a for a, b in zip(bounds, bounds[1:])]


# ------------------------------------------------------------------ helpers

def fresh_dir(factory) -> Path:
    return factory.mktemp("prop", numbered=True)


def append_pieces(stream: aqz.ZarrStream, raw: bytes, sizes, frames: np.ndarray,
                  frame_bytes: int) -> None:
    """Appends `raw` in pieces; a piece that is a whole number of frames and
    starts on a frame boundary goes in as a numpy block, the rest as bytes."""
    offset = 0
    for size in sizes:
        if size and offset % frame_bytes == 0 and size % frame_bytes == 0:
            k0, k1 = offset // frame_bytes, (offset + size) // frame_bytes
            stream.append(frames[k0:k1])
        else:
            stream.append(raw[offset:offset + size])
        offset += size
    assert offset == len(raw)


def padded_frames(frames: np.ndarray, partial_bytes: int, extra: np.ndarray) -> np.ndarray:
    """The frames a reader sees: the full ones, plus the incomplete last frame
    padded with zeros (if any)."""
    if partial_bytes == 0:
        return frames
    last = np.zeros(extra.shape, extra.dtype)
    last_bytes = last.reshape(-1).view(np.uint8)
    last_bytes[:partial_bytes] = extra.reshape(-1).view(np.uint8)[:partial_bytes]
    return np.concatenate([frames, last[None]])


def draw_appends(data, specs, dtype, *, at_least: int, unbounded_at_most: int, slack: int,
                 max_cuts: int):
    """Draws what a test appends: n full frames (from `at_least` up to the
    array's capacity, or for an unbounded array up to the smaller of
    `unbounded_at_most` and two append-chunks plus `slack`), then part of one
    more frame where the array has room, as bytes cut into appends of drawn
    sizes. Returns (n, partial, frames, extra, raw, sizes, frame_bytes)."""
    h, w = specs[-2][1], specs[-1][1]
    frame_bytes = h * w * np.dtype(dtype).itemsize
    cap = capacity(specs)
    per_index = frames_per_append_index(specs)
    max_frames = cap if cap is not None else \
        min(unbounded_at_most, 2 * specs[0][2] * per_index + slack)
    n = data.draw(st.integers(at_least, max_frames), label="full frames")
    partial = data.draw(st.integers(0, frame_bytes - 1), label="partial bytes") \
        if (cap is None or n < cap) and frame_bytes > 1 else 0
    all_frames = random_frames(n + 1, h, w, dtype, seed=n * 7919 + 31 * h + w)
    frames, extra = all_frames[:n], all_frames[n]
    raw = frames.tobytes() + extra.tobytes()[:partial]
    sizes = data.draw(pieces(len(raw), frame_bytes, max_cuts=max_cuts), label="append sizes")
    return n, partial, frames, extra, raw, sizes, frame_bytes


def store_array(store: Path, key: str = "0") -> np.ndarray:
    return read_zarr(store / key)


# ------------------------------------------------------------------ tests

@budget(40)
@given(data=st.data(), specs=layouts(), dtype=st.sampled_from(DTYPES),
       version=st.sampled_from([V2, V3]), compression=compressions)
def test_random_layouts_and_splits_round_trip(tmp_path_factory, data, specs, dtype,
                                              version, compression):
    n, partial, frames, extra, raw, sizes, frame_bytes = draw_appends(
        data, specs, dtype, at_least=0, unbounded_at_most=12, slack=3, max_cuts=10)
    note(f"specs={specs} dtype={np.dtype(dtype).name} version={version.name} "
         f"compression={compression} n={n} partial={partial} pieces={sizes}")

    d = dims(*specs)
    store = fresh_dir(tmp_path_factory) / "s.zarr"
    try:
        s = settings(store, d, dtype=dtype, version=version,
                     compression=make_compression(compression))
        with aqz.ZarrStream(s) as stream:
            append_pieces(stream, raw, sizes, frames, frame_bytes)
        expected = expected_array(padded_frames(frames, partial, extra), d)
        got = store_array(store)
        assert got.shape == expected.shape
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    finally:
        shutil.rmtree(store.parent, ignore_errors=True)


@budget(30)
@given(data=st.data(), specs=layouts(max_dims=4), dtype=st.sampled_from(DTYPES),
       version=st.sampled_from([V2, V3]), compression=compressions)
def test_full_bounded_array_refuses_the_rest_and_keeps_the_data(tmp_path_factory, data, specs,
                                                                dtype, version, compression):
    specs = [("t", data.draw(st.integers(1, 3), label="t size"), *specs[0][2:])] + specs[1:]
    h, w = specs[-2][1], specs[-1][1]
    frame_bytes = h * w * np.dtype(dtype).itemsize
    cap = capacity(specs)
    over = data.draw(st.integers(1, 2 * frame_bytes), label="bytes beyond capacity")
    frames = random_frames(cap + 3, h, w, dtype, seed=cap)
    raw = frames.tobytes()[: cap * frame_bytes + over]
    sizes = data.draw(pieces(len(raw), frame_bytes, max_cuts=6), label="append sizes")
    note(f"specs={specs} dtype={np.dtype(dtype).name} version={version.name} pieces={sizes}")

    d = dims(*specs)
    store = fresh_dir(tmp_path_factory) / "s.zarr"
    try:
        s = settings(store, d, dtype=dtype, version=version,
                     compression=make_compression(compression))
        refused = 0
        with aqz.ZarrStream(s) as stream:
            offset = 0
            for size in sizes:
                piece = raw[offset:offset + size]
                offset += size
                if offset <= cap * frame_bytes or size == 0:
                    stream.append(piece)  # fits: must be accepted
                    continue
                with pytest.raises(ValueError, match="full"):
                    stream.append(piece)
                refused += 1
        assert refused >= 1
        got = store_array(store)
        np.testing.assert_array_equal(got, expected_array(frames[:cap], d))
    finally:
        shutil.rmtree(store.parent, ignore_errors=True)


# ---- multiscale: level 0 as appended, level k+1 = level k reduced in (y, x)

METHODS = {
    aqz.DownsamplingMethod.DECIMATE: "decimate",
    aqz.DownsamplingMethod.MEAN: "mean",
    aqz.DownsamplingMethod.MIN: "min",
    aqz.DownsamplingMethod.MAX: "max",
}


def reduce_yx(level: np.ndarray, halve_y: bool, halve_x: bool, method: str) -> np.ndarray:
    """docs/multiscale.md: 2x2 (or 2x1/1x2) blocks over the halved axes; a
    block cut short by an odd edge reduces over the pixels that exist, which
    is the edge replicated (np.pad mode="edge") and then reduced; integer
    means truncate toward zero; float means are taken in double and rounded
    once."""
    fy, fx = (2 if halve_y else 1), (2 if halve_x else 1)
    if method == "decimate":
        return level[..., ::fy, ::fx]
    *outer, h, w = level.shape
    ph, pw = -(-h // fy) * fy, -(-w // fx) * fx
    dtype = level.dtype
    if method == "mean":
        work = level.astype(np.float64) if dtype.kind == "f" else level.astype(object)
    else:
        work = level
    padded = np.pad(work, [(0, 0)] * len(outer) + [(0, ph - h), (0, pw - w)], mode="edge")
    blocks = padded.reshape(*outer, ph // fy, fy, pw // fx, fx)
    if method == "min":
        return blocks.min(axis=(-3, -1)).astype(dtype)
    if method == "max":
        return blocks.max(axis=(-3, -1)).astype(dtype)
    total = blocks.sum(axis=(-3, -1))
    n = fy * fx
    if dtype.kind == "f":
        return (total / n).astype(dtype)
    exact = np.vectorize(lambda s: (abs(s) // n) * (1 if s >= 0 else -1), otypes=[object])(total)
    return exact.astype(dtype)


def pyramid(level0: np.ndarray, specs, method: str) -> list[np.ndarray]:
    (_, _, cy, _), (_, _, cx, _) = specs[-2], specs[-1]
    levels = [level0]
    while True:
        h, w = levels[-1].shape[-2:]
        halve_y, halve_x = h > cy, w > cx
        if not (halve_y or halve_x):
            return levels
        levels.append(reduce_yx(levels[-1], halve_y, halve_x, method))


@budget(25)
@given(data=st.data(), specs=layouts(max_dims=4, middle=("c",)),
       dtype=st.sampled_from(DTYPES), version=st.sampled_from([V2, V3]),
       method=st.sampled_from(list(METHODS)), compression=compressions)
def test_multiscale_levels_match_the_documented_reduction(tmp_path_factory, data, specs, dtype,
                                                          version, method, compression):
    name = METHODS[method]
    # Float64 means depend on the summation order in the last bit.
    assume(not (name == "mean" and np.dtype(dtype) == np.float64))
    specs = specs[:-2] + [
        data.draw(ragged_dim("y", max_chunk=5, max_chunks=4), label="y"),
        data.draw(ragged_dim("x", max_chunk=5, max_chunks=4), label="x"),
    ]
    n, partial, frames, extra, raw, sizes, frame_bytes = draw_appends(
        data, specs, dtype, at_least=1, unbounded_at_most=8, slack=1, max_cuts=6)
    note(f"specs={specs} dtype={np.dtype(dtype).name} version={version.name} method={name} "
         f"n={n} partial={partial} pieces={sizes}")

    d = dims(*specs)
    store = fresh_dir(tmp_path_factory) / "s.zarr"
    try:
        s = settings(store, d, dtype=dtype, version=version, multiscale=True,
                     downsampling_method=method, compression=make_compression(compression))
        with aqz.ZarrStream(s) as stream:
            append_pieces(stream, raw, sizes, frames, frame_bytes)
        expected = pyramid(expected_array(padded_frames(frames, partial, extra), d), specs, name)

        group_meta = store / ("zarr.json" if version == V3 else ".zattrs")
        attrs = json.loads(group_meta.read_text())
        if version == V3:
            attrs = attrs["attributes"]["ome"]
        datasets = [ds["path"] for ds in attrs["multiscales"][0]["datasets"]]
        assert datasets == [str(k) for k in range(len(expected))]
        for k, want in enumerate(expected):
            got = store_array(store, str(k))
            assert got.shape == want.shape, f"level {k}"
            assert got.dtype == want.dtype, f"level {k}"
            np.testing.assert_array_equal(got, want, err_msg=f"level {k} ({name})")
    finally:
        shutil.rmtree(store.parent, ignore_errors=True)
