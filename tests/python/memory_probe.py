"""Runs one stream in this process and prints, as JSON, the stream's
estimate of its maximum memory and the growth of the process's peak
resident set over what it held before the stream was created (frames
made, modules imported). Run as a child of test_memory_estimate.py, so that
each stream's peak is its own:

    python memory_probe.py '<config as JSON>'

config: {"store": path, "arrays": n, "height": h, "width": w,
         "chunk": [t, y, x], "shard": [t, y, x], "codec": "lz4"|"zstd"|null,
         "version": 2|3, "multiscale": bool, "data": "random"|"microscopy",
         "frames": frames per array, "threads": n}
"""

from __future__ import annotations

import ctypes
import gc
import json
import sys
from pathlib import Path

import numpy as np

import acquire_zarr as aqz

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from scenarios import frame_pool  # noqa: E402


def frames(kind: str, height: int, width: int, seed: int) -> list[np.ndarray]:
    """The benchmarks' frames: uniform random (incompressible), or
    microscopy-like (LZ4 takes them to about half)."""
    return frame_pool(kind, seed=seed, height=height, width=width)


def settings(c: dict) -> aqz.StreamSettings:
    names = ("t", "y", "x")
    kinds = (aqz.DimensionType.TIME, aqz.DimensionType.SPACE, aqz.DimensionType.SPACE)
    sizes = (0, c["height"], c["width"])
    kwargs = {}
    if c["codec"] == "lz4":
        kwargs["compression"] = aqz.CompressionSettings(
            compressor=aqz.Compressor.BLOSC1, codec=aqz.CompressionCodec.BLOSC_LZ4,
            level=1, shuffle=1)
    elif c["codec"] == "zstd":
        kwargs["compression"] = aqz.CompressionSettings(
            compressor=aqz.Compressor.ZSTD, codec=aqz.CompressionCodec.ZSTD, level=3)
    if c["multiscale"]:
        kwargs["downsampling_method"] = aqz.DownsamplingMethod.MEAN
    shard = c["shard"] if c["version"] == 3 else [1, 1, 1]
    arrays = [aqz.ArraySettings(
        output_key=f"pos{a}", data_type=np.uint16,
        dimensions=[aqz.Dimension(name=n, kind=k, array_size_px=size, chunk_size_px=ch,
                                  shard_size_chunks=sh)
                    for n, k, size, ch, sh in zip(names, kinds, sizes, c["chunk"], shard)],
        **kwargs) for a in range(c["arrays"])]
    return aqz.StreamSettings(
        store_path=c["store"], arrays=arrays, overwrite=True, max_threads=c["threads"],
        version=aqz.ZarrVersion.V3 if c["version"] == 3 else aqz.ZarrVersion.V2)


def start_peak_window() -> int:
    """Gives freed memory back, resets the peak resident set (Linux 4.0+:
    clear_refs 5) and returns the resident set now, in bytes."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status_bytes("VmRSS")


def status_bytes(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    c = json.loads(sys.argv[1])
    pools = [frames(c["data"], c["height"], c["width"], seed=a) for a in range(c["arrays"])]
    s = settings(c)
    estimate = s.get_maximum_memory_usage()
    baseline = start_peak_window()
    with aqz.ZarrStream(s) as stream:
        for f in range(c["frames"]):
            for a in range(c["arrays"]):
                stream.append(pools[a][f % len(pools[a])], key=f"pos{a}")
    print(json.dumps({"estimate": estimate, "growth": status_bytes("VmHWM") - baseline}))


if __name__ == "__main__":
    main()
