"""Multiscale pyramids: every level equals what the method named in the OME
metadata computes from the level above (read back with zarr-python)."""

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


def reference_level(prev: np.ndarray, down: list[bool], kind: str, fn, dtype) -> np.ndarray:
    nd = prev.ndim
    planes = prev.reshape(-1, prev.shape[-2], prev.shape[-1])
    reduced = np.stack([reduce_yx_plane(p, fn, kind, down[-2], down[-1], dtype) for p in planes])
    reduced = reduced.reshape(prev.shape[:-2] + reduced.shape[-2:])
    for axis in range(nd - 2):
        if down[axis]:
            reduced = pair_reduce(reduced, axis, kind, dtype)
    return reduced


def exact_int64_mean(plane: np.ndarray) -> np.ndarray:
    """The exact 2x2 mean truncated toward zero, in Python integers: the
    library's mean is exact, while a float64 mean loses bits above 2**53."""
    h, w = plane.shape
    values = [[int(v) for v in row] for row in plane.tolist()]
    at = lambda y, x: values[y][x] if y < h and x < w else 0  # noqa: E731
    out = np.empty(((h + 1) // 2, (w + 1) // 2), dtype=plane.dtype)
    for oy in range(out.shape[0]):
        for ox in range(out.shape[1]):
            total = sum(at(2 * oy + dy, 2 * ox + dx) for dy in (0, 1) for dx in (0, 1))
            out[oy, ox] = abs(total) // 4 * (1 if total >= 0 else -1)
    return out


def reduce_yx_plane(plane, fn, kind, down_y, down_x, dtype):
    if down_y and down_x and kind == "mean" and np.dtype(dtype).kind in "iu" and np.dtype(dtype).itemsize == 8:
        out = exact_int64_mean(plane)
    elif down_y and down_x:
        out = fn(plane)
    else:
        out = plane
        if down_y:
            out = pair_reduce(out, 0, kind, dtype)
        if down_x:
            out = pair_reduce(out, 1, kind, dtype)
    return np.asarray(out).astype(dtype)


def pair_reduce(a: np.ndarray, axis: int, kind: str, dtype) -> np.ndarray:
    """Combines elements 2i and 2i+1 along `axis`; a missing partner is 0."""
    if a.shape[axis] % 2:
        pad = [(0, 0)] * a.ndim
        pad[axis] = (0, 1)
        a = np.pad(a, pad)
    first = np.take(a, range(0, a.shape[axis], 2), axis=axis)
    second = np.take(a, range(1, a.shape[axis], 2), axis=axis)
    if kind == "decimate":
        return first
    if kind == "mean" and np.dtype(dtype).kind in "iu":
        total = first.astype(object) + second.astype(object)
        return np.vectorize(lambda v: abs(v) // 2 * (1 if v >= 0 else -1), otypes=[object])(total).astype(dtype)
    if kind == "mean":
        return ((first.astype(np.float64) + second.astype(np.float64)) / 2).astype(dtype)
    if kind == "min":
        return np.minimum(first, second)
    return np.maximum(first, second)


def check_pyramid(store, version, kind, dtype, n_levels_at_least=2, key=""):
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
    for k in range(1, len(levels)):
        prev, got = levels[k - 1], levels[k]
        down = [scales[k][d] == 2 * scales[k - 1][d] for d in range(prev.ndim)]
        for d in range(prev.ndim):
            if down[d]:
                assert got.shape[d] == -(-prev.shape[d] // 2), (k, d)
            else:
                assert got.shape[d] == prev.shape[d], (k, d)
        expected = reference_level(prev, down, kind, fn, np.dtype(dtype))
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
    check_pyramid(tmp_path / "s.zarr", version, kind, np.uint16)


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
