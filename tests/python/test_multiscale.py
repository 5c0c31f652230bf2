"""Multiscale pyramids: every level equals what the method named in the OME
metadata computes from the level above (read back with zarr-python), with
the edge rule its description states: a block cut short by an odd edge (in
y, x or z) reduces over the pixels that exist, the same as replicating the
edge; nothing is padded with zeros."""

from __future__ import annotations

import numpy as np
import pytest
import skimage  # noqa: F401  (the metadata's method names are evaluated with it)
import skimage.measure
import skimage.transform
import zarr

import acquire_zarr as aqz
from streamkit import dims, load_json, random_frames, read_tensorstore, settings, zstd

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3
METHODS = {
    "decimate": aqz.DownsamplingMethod.DECIMATE,
    "mean": aqz.DownsamplingMethod.MEAN,
    "min": aqz.DownsamplingMethod.MIN,
    "max": aqz.DownsamplingMethod.MAX,
}
TYPES = {"decimate": "decimate", "mean": "local_mean", "min": "local_min", "max": "local_max"}


def evaluate(metadata: dict):
    """The reduction the metadata describes, as a function of one plane."""
    method = eval(metadata["method"], {"np": np, "skimage": skimage})  # noqa: S307
    args = [eval(a, {"np": np}) for a in metadata.get("args", [])]  # noqa: S307
    kwargs = {k: eval(v, {"np": np}) for k, v in metadata.get("kwargs", {}).items()}  # noqa: S307
    return lambda plane: method(plane, *args, **kwargs)


def reference_level(prev: np.ndarray, down: list[bool], kind: str, fn, dtype,
                    exists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level k+1 from level k, and which of its planes exist. `exists` marks
    the planes of level k (its outer positions) that frames reached; a plane
    never appended (the stream closed mid-stack) reads as 0 but is no more a
    partner in a z pair than a plane past the edge."""
    nd = prev.ndim
    planes = prev.reshape(-1, prev.shape[-2], prev.shape[-1])
    reduced = np.stack([reduce_yx_plane(p, fn, kind, down[-2], down[-1], dtype) for p in planes])
    reduced = reduced.reshape(prev.shape[:-2] + reduced.shape[-2:])
    for axis in range(nd - 2):
        if down[axis]:
            combined = pair_reduce(reduced, axis, kind, dtype)
            first = np.take(reduced, range(0, reduced.shape[axis], 2), axis=axis)
            seconds = range(1, reduced.shape[axis], 2)
            head = tuple(slice(0, len(seconds)) if ax == axis else slice(None) for ax in range(nd - 2))
            second_exists = np.take(exists, seconds, axis=axis)
            combined[head] = np.where(second_exists[..., None, None], combined[head], first[head])
            exists = np.take(exists, range(0, exists.shape[axis], 2), axis=axis).copy()
            exists[head] |= second_exists
            reduced = combined
    return reduced, exists


def exact_int64_mean(plane: np.ndarray) -> np.ndarray:
    """The exact 2x2 mean over the pixels that exist, truncated toward zero,
    in Python integers: the library's mean is exact, while a float64 mean
    loses bits above 2**53."""
    h, w = plane.shape
    values = [[int(v) for v in row] for row in plane.tolist()]
    out = np.empty(((h + 1) // 2, (w + 1) // 2), dtype=plane.dtype)
    for oy in range(out.shape[0]):
        for ox in range(out.shape[1]):
            block = [values[y][x] for y in range(2 * oy, min(2 * oy + 2, h))
                     for x in range(2 * ox, min(2 * ox + 2, w))]
            out[oy, ox] = truncating_div(sum(block), len(block))
    return out


def truncating_div(total: int, n: int) -> int:
    return abs(total) // n * (1 if total >= 0 else -1)


def mean_over_existing(plane: np.ndarray, dtype) -> np.ndarray:
    """The 2x2 mean over the pixels that exist (4, 2 or 1 of them), computed
    without any padding: exact for integers (truncated toward zero), in
    double for floats, then cast."""
    h, w = plane.shape
    ho, wo = (h + 1) // 2, (w + 1) // 2
    exact = np.dtype(dtype).kind in "iu"
    work = plane.astype(object if exact else np.float64)
    total = np.zeros((ho, wo), dtype=work.dtype)
    count = np.zeros((ho, wo), dtype=np.int64)
    for dy in (0, 1):
        for dx in (0, 1):
            part = work[dy::2, dx::2]
            total[:part.shape[0], :part.shape[1]] += part
            count[:part.shape[0], :part.shape[1]] += 1
    if exact:
        return np.vectorize(truncating_div, otypes=[object])(total, count).astype(dtype)
    return (total / count).astype(dtype)


def pad_edge_to_even(a: np.ndarray, axes) -> np.ndarray:
    """Replicates the last row/column/plane along each odd axis in `axes`."""
    pad = [(0, a.shape[ax] % 2 if ax in axes else 0) for ax in range(a.ndim)]
    return np.pad(a, pad, mode="edge")


def reduce_yx_plane(plane, fn, kind, down_y, down_x, dtype):
    if down_y and down_x and kind == "mean" and np.dtype(dtype).kind in "iu" and np.dtype(dtype).itemsize == 8:
        out = exact_int64_mean(plane)
    elif down_y and down_x:
        # The metadata's call reproduces interior blocks; its description
        # says an edge block equals the edge replicated, then reduced.
        out = np.asarray(fn(pad_edge_to_even(plane, (0, 1)))).astype(dtype)
        assert out.shape == ((plane.shape[0] + 1) // 2, (plane.shape[1] + 1) // 2)
        if kind == "mean":
            # Replicating the edge is the mean over the pixels that exist:
            # (a+a)/2 = a, (a+b+a+b)/4 = (a+b)/2. The latter, taken in
            # double and rounded once as the library does, is the reference.
            existing = mean_over_existing(plane, dtype)
            if np.dtype(dtype).kind == "f":
                # skimage sums float32 in float32: last-bit differences only
                np.testing.assert_allclose(out, existing, rtol=1e-6,
                                           atol=1e-6 * float(np.abs(plane).max(initial=0)))
            else:
                np.testing.assert_array_equal(out, existing)
            out = existing
    else:
        out = plane
        if down_y:
            out = pair_reduce(out, 0, kind, dtype)
        if down_x:
            out = pair_reduce(out, 1, kind, dtype)
    return np.asarray(out).astype(dtype)


def pair_reduce(a: np.ndarray, axis: int, kind: str, dtype) -> np.ndarray:
    """Combines elements 2i and 2i+1 along `axis`; a lone last element (odd
    size) is kept as it is, whatever the method."""
    n = a.shape[axis]
    first = np.take(a, range(0, n, 2), axis=axis)
    second = np.take(a, range(1, n, 2), axis=axis)
    if kind == "decimate":
        out = first
    elif kind == "mean" and np.dtype(dtype).kind in "iu":
        total = first[tuple(slice(0, s) for s in second.shape)].astype(object) + second.astype(object)
        out = first.copy()
        out[tuple(slice(0, s) for s in second.shape)] = np.vectorize(
            lambda v: truncating_div(v, 2), otypes=[object])(total).astype(dtype)
    elif kind == "mean":
        head = tuple(slice(0, s) for s in second.shape)
        out = first.copy()
        out[head] = ((first[head].astype(np.float64) + second.astype(np.float64)) / 2).astype(dtype)
    else:
        head = tuple(slice(0, s) for s in second.shape)
        out = first.copy()
        out[head] = (np.minimum if kind == "min" else np.maximum)(first[head], second)
    # Cross-check: the same as replicating the last element, then pairing.
    padded = pad_edge_to_even(a, (axis,))
    p_first = np.take(padded, range(0, padded.shape[axis], 2), axis=axis)
    p_second = np.take(padded, range(1, padded.shape[axis], 2), axis=axis)
    if kind == "min":
        np.testing.assert_array_equal(out, np.minimum(p_first, p_second))
    elif kind == "max":
        np.testing.assert_array_equal(out, np.maximum(p_first, p_second))
    elif kind == "mean" and np.dtype(dtype).kind == "f":
        want = ((p_first.astype(np.float64) + p_second.astype(np.float64)) / 2).astype(dtype)
        np.testing.assert_array_equal(out, want)
    return out


def check_pyramid(store, version, kind, dtype, n_levels_at_least=2, key="", frames_appended=None):
    group_path = store / key if key else store
    group = zarr.open_group(str(group_path), mode="r")
    if version == V3:
        entry = load_json(group_path / "zarr.json")["attributes"]["ome"]["multiscales"][0]
    else:
        entry = load_json(group_path / ".zattrs")["multiscales"][0]
    assert entry["type"] == TYPES[kind]
    metadata = entry["metadata"]
    assert {"description", "method", "version"} <= set(metadata)
    fn = evaluate(metadata)
    paths = [d["path"] for d in entry["datasets"]]
    assert paths == [str(i) for i in range(len(paths))]
    assert len(paths) >= n_levels_at_least
    levels = [group[p][...] for p in paths]
    scales = [d["coordinateTransformations"][0]["scale"] for d in entry["datasets"]]
    outer = levels[0].shape[:-2]
    n_planes = int(np.prod(outer, dtype=np.int64))
    exists = (np.arange(n_planes) < (n_planes if frames_appended is None else frames_appended)).reshape(outer)
    for k in range(1, len(levels)):
        prev, got = levels[k - 1], levels[k]
        down = [scales[k][d] == 2 * scales[k - 1][d] for d in range(prev.ndim)]
        for d in range(prev.ndim):
            if down[d]:
                assert got.shape[d] == -(-prev.shape[d] // 2), (k, d)
            else:
                assert got.shape[d] == prev.shape[d], (k, d)
        expected, exists = reference_level(prev, down, kind, fn, np.dtype(dtype), exists)
        if kind == "mean" and np.dtype(dtype).kind == "f":
            # accumulated in double, rounded once: last-bit differences only
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6 * float(np.abs(prev).max()),
                                           err_msg=f"level {k}")
        else:
            np.testing.assert_array_equal(got, expected, err_msg=f"level {k}")
    return levels, entry


CASES = [
    ("tyx", dims(("t", 0, 3, 2), ("y", 37, 8, 2), ("x", 23, 4, 2)), 7),
    ("zyx-unbounded", dims(("z", 0, 2, 2), ("y", 19, 4, 2), ("x", 29, 4, 1)), 11),
    ("zyx-bounded", dims(("z", 13, 2, 2), ("y", 17, 4, 2), ("x", 11, 4, 2)), 13),
    ("tczyx", dims(("t", 0, 1, 1), ("c", 2, 1, 1), ("z", 7, 2, 2), ("y", 23, 4, 2), ("x", 13, 4, 2)), 2 * 7 * 2 + 5),
]


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
@pytest.mark.parametrize("kind", list(METHODS))
@pytest.mark.parametrize("name,d,n", CASES, ids=[c[0] for c in CASES])
def test_levels_match_the_named_method(tmp_path, version, kind, name, d, n):
    h, w = d[-2].array_size_px, d[-1].array_size_px
    frames = random_frames(n, h, w, np.uint16, seed=n)
    s = settings(tmp_path / "s.zarr", d, version=version, multiscale=True,
                 downsampling_method=METHODS[kind])
    with aqz.ZarrStream(s) as st:
        st.append(frames)
    check_pyramid(tmp_path / "s.zarr", version, kind, np.uint16, frames_appended=n)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.uint64, np.float32, np.float64],
                         ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("kind", list(METHODS))
def test_levels_match_the_named_method_for_every_dtype(tmp_path, dtype, kind):
    d = dims(("t", 0, 2, 1), ("y", 21, 4, 2), ("x", 19, 4, 2))
    frames = random_frames(5, 21, 19, dtype, seed=5)
    s = settings(tmp_path / "s.zarr", d, dtype=dtype, multiscale=True, downsampling_method=METHODS[kind])
    with aqz.ZarrStream(s) as st:
        st.append(frames)
    check_pyramid(tmp_path / "s.zarr", V3, kind, dtype)


# Odd y, odd x and odd z at several levels: edge blocks of 2x1, 1x2 and 1x1
# pixels, a lone last plane of a bounded z (per channel and time point in
# 5-D) and of an unbounded z flushed at close.
ODD_CASES = [
    ("zyx-bounded-v3", V3, dims(("z", 5, 2, 1), ("y", 9, 2, 2), ("x", 7, 2, 2)), 5),
    ("zyx-unbounded-v2", V2, dims(("z", 0, 2, 1), ("y", 7, 4, 1), ("x", 9, 4, 1)), 7),
    ("tczyx-v3", V3, dims(("t", 0, 1, 1), ("c", 2, 1, 1), ("z", 3, 2, 1), ("y", 5, 2, 1), ("x", 7, 2, 1)),
     2 * 2 * 3),
]
ODD_DTYPES = [np.uint8, np.uint16, np.int16, np.float32]


@pytest.mark.parametrize("dtype", ODD_DTYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("kind", list(METHODS))
@pytest.mark.parametrize("name,version,d,n", ODD_CASES, ids=[c[0] for c in ODD_CASES])
def test_odd_edges_reduce_over_the_pixels_that_exist(tmp_path, name, version, d, n, kind, dtype):
    h, w = d[-2].array_size_px, d[-1].array_size_px
    frames = random_frames(n, h, w, dtype, seed=n + h)
    s = settings(tmp_path / "s.zarr", d, dtype=dtype, version=version, multiscale=True,
                 downsampling_method=METHODS[kind])
    with aqz.ZarrStream(s) as st:
        st.append(frames)
    levels, _ = check_pyramid(tmp_path / "s.zarr", version, kind, dtype, n_levels_at_least=3)
    assert any(lv.shape[-3] % 2 for lv in levels[:-1]), "an odd z above some level"


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_odd_edge_levels_read_the_same_with_tensorstore(tmp_path, version):
    d = dims(("t", 0, 1, 1), ("c", 2, 1, 1), ("z", 3, 2, 1), ("y", 5, 2, 1), ("x", 7, 2, 1))
    frames = random_frames(2 * 2 * 3, 5, 7, np.int16, seed=3)
    s = settings(tmp_path / "s.zarr", d, dtype=np.int16, version=version, multiscale=True,
                 downsampling_method=METHODS["min"])
    with aqz.ZarrStream(s) as st:
        st.append(frames)
    levels, _ = check_pyramid(tmp_path / "s.zarr", version, "min", np.int16, n_levels_at_least=3)
    for k, level in enumerate(levels):
        np.testing.assert_array_equal(read_tensorstore(tmp_path / "s.zarr" / str(k), version), level,
                                      err_msg=f"level {k}")


@pytest.mark.parametrize("kind", list(METHODS))
def test_constant_image_stays_constant_at_every_level_and_edge(tmp_path, kind):
    # acquire-zarr #226: zero padding turned the last row, column and plane
    # of MIN levels to 0 and halved them in MEAN levels.
    d = dims(("z", 0, 2, 1), ("y", 11, 2, 2), ("x", 13, 2, 2))
    frames = np.full((7, 11, 13), 1000, dtype=np.uint16)
    s = settings(tmp_path / "s.zarr", d, multiscale=True, downsampling_method=METHODS[kind])
    with aqz.ZarrStream(s) as st:
        st.append(frames)
    levels, _ = check_pyramid(tmp_path / "s.zarr", V3, kind, np.uint16, n_levels_at_least=4)
    for k, level in enumerate(levels):
        assert level.size and (level == 1000).all(), f"level {k}: {np.unique(level)}"


def test_metadata_states_the_edge_rule_and_claims_no_zero_padding(tmp_path):
    for kind, method in METHODS.items():
        d = dims(("t", 0, 1, 1), ("y", 5, 2, 1), ("x", 5, 2, 1))
        s = settings(tmp_path / kind, d, multiscale=True, downsampling_method=method)
        with aqz.ZarrStream(s) as st:
            st.append(random_frames(1, 5, 5, np.uint16))
        metadata = load_json(tmp_path / kind / "zarr.json")["attributes"]["ome"]["multiscales"][0]["metadata"]
        assert "reduced over the elements that exist" in metadata["description"], kind
        assert "replicating the edge" in metadata["description"], kind
        assert "cval" not in metadata.get("kwargs", {}), kind


def test_anisotropic_z_stops_before_yx(tmp_path):
    d = dims(("t", 0, 1, 1), ("z", 6, 4, 1), ("y", 64, 8, 2), ("x", 64, 8, 2))
    frames = random_frames(2 * 6, 64, 64, np.uint16)
    s = settings(tmp_path / "s.zarr", d, multiscale=True, downsampling_method=aqz.DownsamplingMethod.MEAN)
    with aqz.ZarrStream(s) as st:
        st.append(frames)
    levels, entry = check_pyramid(tmp_path / "s.zarr", V3, "mean", np.uint16, n_levels_at_least=4)
    assert [lv.shape for lv in levels] == [(2, 6, 64, 64), (2, 3, 32, 32), (2, 3, 16, 16), (2, 3, 8, 8)]
    scales = [ds["coordinateTransformations"][0]["scale"] for ds in entry["datasets"]]
    assert scales == [[1, 1, 1, 1], [1, 2, 2, 2], [1, 2, 4, 4], [1, 2, 8, 8]]


def test_chunks_and_shards_shrink_to_fit_each_level(tmp_path):
    d = dims(("t", 0, 2, 1), ("y", 40, 16, 3), ("x", 40, 16, 3))
    s = settings(tmp_path / "s.zarr", d, multiscale=True)
    with aqz.ZarrStream(s) as st:
        st.append(random_frames(3, 40, 40, np.uint16))
    shapes = []
    for k in range(3):
        a = zarr.open_array(str(tmp_path / "s.zarr" / str(k)), mode="r")
        shapes.append((a.shape, a.chunks, a.shards))
    assert shapes == [((3, 40, 40), (2, 16, 16), (2, 48, 48)),
                      ((3, 20, 20), (2, 16, 16), (2, 32, 32)),
                      ((3, 10, 10), (2, 10, 10), (2, 10, 10))]


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_output_key_pyramid_layout_and_partial_last_chunk(tmp_path, version):
    d = dims(("t", 0, 4, 1), ("y", 16, 4, 1), ("x", 16, 4, 1))
    frames = random_frames(6, 16, 16, np.uint8)  # 6 frames: the second t-chunk is partial
    s = settings(tmp_path / "s.zarr", d, dtype=np.uint8, version=version, multiscale=True,
                 output_key="acq/cam0", downsampling_method=aqz.DownsamplingMethod.MAX)
    with aqz.ZarrStream(s) as st:
        st.append(frames)
    levels, _ = check_pyramid(tmp_path / "s.zarr", version, "max", np.uint8, key="acq/cam0")
    assert [lv.shape for lv in levels] == [(6, 16, 16), (6, 8, 8), (6, 4, 4)]
    np.testing.assert_array_equal(levels[0], frames)
    root = zarr.open_group(str(tmp_path / "s.zarr"), mode="r")
    assert dict(root.attrs) == {}


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_pyramid_validates_and_opens_with_ome_zarr(tmp_path, version):
    d = dims(("t", 0, 2, 1), ("c", 2, 1, 1), ("y", 32, 8, 2, "micrometer", 0.5),
             ("x", 32, 8, 2, "micrometer", 0.5))
    s = settings(tmp_path / "s.zarr", d, version=version, multiscale=True,
                 downsampling_method=aqz.DownsamplingMethod.MEAN)
    with aqz.ZarrStream(s) as st:
        st.append(random_frames(6, 32, 32, np.uint16))
    group = zarr.open_group(str(tmp_path / "s.zarr"), mode="r")
    if version == V3:
        from ome_zarr_models.v05.image import Image
        ms = Image.from_zarr(group).ome_attributes.multiscales[0]
    else:
        from ome_zarr_models.v04.image import Image
        ms = Image.from_zarr(group).attributes.multiscales[0]
    assert [ds.path for ds in ms.datasets] == ["0", "1", "2"]
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader
    node = list(Reader(parse_url(str(tmp_path / "s.zarr")))())[0]
    assert [tuple(level.shape) for level in node.data] == [(3, 2, 32, 32), (3, 2, 16, 16), (3, 2, 8, 8)]


@pytest.mark.parametrize("dtype", [np.uint16, np.float32, np.float64], ids=lambda t: np.dtype(t).name)
def test_appends_that_split_elements(tmp_path, dtype):
    # Byte counts that cut elements in two: every later frame starts at an odd
    # address in the caller's buffer, and the pyramid must still be exact.
    d = dims(("t", 0, 2, 1), ("y", 21, 4, 2), ("x", 19, 4, 2))
    frames = random_frames(7, 21, 19, dtype, seed=9)
    raw = frames.tobytes()
    frame = 21 * 19 * np.dtype(dtype).itemsize
    pieces = [1, 3, frame - 1, 2 * frame + 1, frame - 4]
    pieces.append(len(raw) - sum(pieces))
    s = settings(tmp_path / "s.zarr", d, dtype=dtype, multiscale=True,
                 downsampling_method=METHODS["mean"])
    with aqz.ZarrStream(s) as st:
        offset = 0
        for n in pieces:
            st.append(raw[offset:offset + n])
            offset += n
    levels, _ = check_pyramid(tmp_path / "s.zarr", V3, "mean", dtype)
    np.testing.assert_array_equal(levels[0], frames)


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_zstd_alone_compresses_every_level_and_both_readers_read_them(tmp_path, version):
    d = dims(("t", 0, 3, 2), ("y", 37, 8, 2), ("x", 23, 4, 2))
    frames = random_frames(7, 37, 23, np.uint16, seed=7)
    s = settings(tmp_path / "s.zarr", d, version=version, multiscale=True, compression=zstd(5),
                 downsampling_method=aqz.DownsamplingMethod.MEAN)
    with aqz.ZarrStream(s) as st:
        st.append(frames)
    levels, entry = check_pyramid(tmp_path / "s.zarr", version, "mean", np.uint16)
    np.testing.assert_array_equal(levels[0], frames)
    for k, level in enumerate(levels):
        path = tmp_path / "s.zarr" / str(k)
        if version == V3:
            codecs = load_json(path / "zarr.json")["codecs"][0]["configuration"]["codecs"]
            assert codecs[-1] == {"name": "zstd", "configuration": {"level": 5, "checksum": False}}
        else:
            assert load_json(path / ".zarray")["compressor"] == {"id": "zstd", "level": 5}
        np.testing.assert_array_equal(read_tensorstore(path, version), level, err_msg=f"level {k}")
