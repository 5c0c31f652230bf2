"""Helpers shared by the Python tests: building settings, streaming data,
computing what a reader must see, and reading it back with real readers."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

import acquire_zarr as aqz

DTYPES = [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16,
          np.int32, np.int64, np.float32, np.float64]

KIND = {"t": aqz.DimensionType.TIME, "c": aqz.DimensionType.CHANNEL,
        "z": aqz.DimensionType.SPACE, "y": aqz.DimensionType.SPACE,
        "x": aqz.DimensionType.SPACE, "p": aqz.DimensionType.OTHER}


def dims(*specs: Sequence) -> list[aqz.Dimension]:
    """dims(("t", 0, 2, 1), ("y", 10, 4, 2), ...): name, size, chunk, shard."""
    out = []
    for name, size, chunk, shard, *rest in specs:
        unit = rest[0] if rest else None
        scale = rest[1] if len(rest) > 1 else 1.0
        out.append(aqz.Dimension(name=name, kind=KIND.get(name[0], aqz.DimensionType.OTHER),
                                 array_size_px=size, chunk_size_px=chunk,
                                 shard_size_chunks=shard, unit=unit, scale=scale))
    return out


def settings(path: Path, dimensions: list[aqz.Dimension], dtype=np.uint16,
             version=aqz.ZarrVersion.V3, compression: Optional[aqz.CompressionSettings] = None,
             **kwargs) -> aqz.StreamSettings:
    kwargs.setdefault("overwrite", True)
    kwargs.setdefault("max_threads", 2)
    return aqz.StreamSettings(store_path=str(path), dimensions=dimensions, data_type=dtype,
                              version=version, compression=compression, **kwargs)


def blosc(codec: str = "lz4", level: int = 1, shuffle: int = 1) -> aqz.CompressionSettings:
    return aqz.CompressionSettings(
        compressor=aqz.Compressor.BLOSC1,
        codec={"lz4": aqz.CompressionCodec.BLOSC_LZ4, "zstd": aqz.CompressionCodec.BLOSC_ZSTD}[codec],
        level=level, shuffle=shuffle)


def zstd(level: int = 3, shuffle: int = 0) -> aqz.CompressionSettings:
    """Standalone zstd, no Blosc: one zstd frame per chunk."""
    return aqz.CompressionSettings(compressor=aqz.Compressor.ZSTD, codec=aqz.CompressionCodec.ZSTD,
                                   level=level, shuffle=shuffle)


def random_frames(n: int, height: int, width: int, dtype, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return (rng.standard_normal((n, height, width)) * 1000).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=(n, height, width), dtype=dtype, endpoint=True)


def expected_array(frames: np.ndarray, dimensions: list[aqz.Dimension]) -> np.ndarray:
    """What a reader must see after `frames` were appended: frames fill the
    outer dimensions in C order, missing frames of the last append index read
    as 0, an unbounded append dimension has the extent the frames cover."""
    outer = [d.array_size_px for d in dimensions[:-2]]
    per_append = int(np.prod(outer[1:], dtype=np.int64)) if len(outer) > 1 else 1
    n = frames.shape[0]
    extent = outer[0] if outer[0] else -(-n // per_append)
    height, width = frames.shape[1:]
    full = np.zeros((extent * per_append, height, width), dtype=frames.dtype)
    full[:n] = frames
    return full.reshape([extent] + outer[1:] + [height, width])


def stream(path: Path, dimensions, frames: np.ndarray, pieces: Optional[Iterable[int]] = None,
           **kwargs) -> aqz.StreamSettings:
    """Streams `frames`; `pieces` splits the bytes into appends of those sizes."""
    s = settings(path, dimensions, dtype=frames.dtype, **kwargs)
    with aqz.ZarrStream(s) as st:
        if pieces is None:
            st.append(frames)
        else:
            raw = frames.tobytes()
            offset = 0
            for size in pieces:
                st.append(raw[offset:offset + size])
                offset += size
            assert offset == len(raw)
    return s


def split_appends(split: str, frames: np.ndarray) -> list[int]:
    """Sizes of appends covering `frames`: "thirds" (a frame in three, then
    the rest at once), "odd-pieces" (a run of sizes unrelated to frames) or
    "frames-at-once" (several whole frames per append)."""
    total, frame = frames.nbytes, frames[0].nbytes
    if split == "thirds":
        return [frame // 3, frame // 3, total - 2 * (frame // 3)]
    if split == "odd-pieces":
        pieces, left, size = [], total, 1
        while left:
            take = min(size, left)
            pieces.append(take)
            left -= take
            size = size * 7 % (4 * frame + 1) + 1
        return pieces
    assert split == "frames-at-once", split
    return [5 * frame, 9 * frame, total - 14 * frame]


def array_path(store: Path, output_key: str = "", multiscale: bool = False) -> Path:
    if not output_key:
        return store / "0"
    return store / output_key / "0" if multiscale else store / output_key


def read_zarr(path: Path) -> np.ndarray:
    import zarr
    return zarr.open_array(str(path), mode="r")[...]


def read_tensorstore(path: Path, version) -> np.ndarray:
    import tensorstore as ts
    driver = "zarr3" if version == aqz.ZarrVersion.V3 else "zarr"
    spec = {"driver": driver, "kvstore": {"driver": "file", "path": str(path)}}
    return ts.open(spec, read=True).result().read().result()


def assert_readers_see(path: Path, expected: np.ndarray, version) -> None:
    for name, got in (("zarr-python", read_zarr(path)), ("tensorstore", read_tensorstore(path, version))):
        assert got.shape == expected.shape, f"{name}: shape {got.shape} != {expected.shape}"
        assert got.dtype == expected.dtype, f"{name}: dtype {got.dtype} != {expected.dtype}"
        np.testing.assert_array_equal(got, expected, err_msg=name)


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), bitwise, independent of the library's table."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def shard_index(shard: bytes, n_chunks: int) -> list[tuple[int, int]]:
    """(offset, nbytes) per inner chunk, after checking the index CRC32C."""
    index_size = 16 * n_chunks + 4
    assert len(shard) >= index_size
    index = shard[-index_size:-4]
    (stored_crc,) = struct.unpack("<I", shard[-4:])
    assert stored_crc == crc32c(index), "shard index CRC32C mismatch"
    values = struct.unpack(f"<{2 * n_chunks}Q", index)
    return [(values[2 * i], values[2 * i + 1]) for i in range(n_chunks)]
