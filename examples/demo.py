"""The `make demo` job: stream a realistic synthetic acquisition to a local
Zarr v3 store, show progress and throughput, then open the result with
zarr-python and check what was written.

    python examples/demo.py [--output demo.zarr] [--frames 288] [--size 2048]

--frames counts 2-D frames (3 channels per timepoint, so it is rounded up to
a multiple of 3); the default, 96 timepoints of 3 x 2048 x 2048 uint16, is
2.25 GiB of raw data.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import acquire_zarr as aqz


def microscopy_frames(n: int, height: int, width: int, seed: int = 0) -> list[np.ndarray]:
    """Smooth blobs plus Poisson noise: compresses like real fluorescence data."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = []
    for i in range(n):
        signal = np.full((height, width), 100.0, dtype=np.float32)
        for _ in range(12):
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            r = rng.uniform(20, 120)
            signal += rng.uniform(500, 3000) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        frames.append(rng.poisson(signal).astype(np.uint16))
    return frames


def directory_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def progress(done: int, total: int, started: float, nbytes: int) -> None:
    width = 40
    filled = width * done // total
    rate = nbytes / max(time.perf_counter() - started, 1e-9) / 2**30
    sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} frames  {rate:5.2f} GiB/s")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="demo.zarr")
    parser.add_argument("--frames", type=int, default=None,
                        help="2-D frames to stream (rounded up to whole timepoints of 3 channels)")
    parser.add_argument("--timepoints", type=int, default=96, help="t steps (3 channels each)")
    parser.add_argument("--size", type=int, default=2048, help="frame height and width")
    args = parser.parse_args()

    channels, size = 3, args.size
    if args.frames is not None:
        args.timepoints = -(-args.frames // channels)
    if args.timepoints < 1 or size < 1:
        parser.error("--frames/--timepoints and --size must be positive")
    frames_total = args.timepoints * channels
    print(f"acquire-zarr {aqz.__version__}: streaming {args.timepoints} timepoints x "
          f"{channels} channels of {size}x{size} uint16 "
          f"({frames_total * size * size * 2 / 2**30:.2f} GiB) to {args.output}")
    print("generating 16 synthetic frames (not timed) ...")
    pool = microscopy_frames(16, size, size)

    chunk = min(256, size)
    shard = min(8, -(-size // chunk))  # 8x8 chunks of 256x256 per shard at 2048x2048
    settings = aqz.StreamSettings(
        store_path=args.output,
        data_type=aqz.DataType.UINT16,
        version=aqz.ZarrVersion.V3,
        overwrite=True,
        compression=aqz.CompressionSettings(
            compressor=aqz.Compressor.BLOSC1,
            codec=aqz.CompressionCodec.BLOSC_LZ4,
            level=1,
            shuffle=1,
        ),
        dimensions=[
            aqz.Dimension(name="t", kind=aqz.DimensionType.TIME, array_size_px=0,
                          chunk_size_px=16, shard_size_chunks=1, unit="second", scale=0.5),
            aqz.Dimension(name="c", kind=aqz.DimensionType.CHANNEL, array_size_px=channels,
                          chunk_size_px=1, shard_size_chunks=1),
            aqz.Dimension(name="y", kind=aqz.DimensionType.SPACE, array_size_px=size,
                          chunk_size_px=chunk, shard_size_chunks=shard, unit="micrometer", scale=0.65),
            aqz.Dimension(name="x", kind=aqz.DimensionType.SPACE, array_size_px=size,
                          chunk_size_px=chunk, shard_size_chunks=shard, unit="micrometer", scale=0.65),
        ],
    )

    latencies = []
    started = time.perf_counter()
    with aqz.ZarrStream(settings) as stream:
        for i in range(frames_total):
            t0 = time.perf_counter()
            stream.append(pool[i % len(pool)])
            latencies.append(time.perf_counter() - t0)
            if i % 8 == 7 or i == frames_total - 1:
                progress(i + 1, frames_total, started, (i + 1) * size * size * 2)
        close_started = time.perf_counter()
    elapsed = time.perf_counter() - started
    raw = frames_total * size * size * 2
    on_disk = directory_bytes(args.output)
    print()
    print(f"throughput: {raw / elapsed / 2**30:.2f} GiB/s raw "
          f"({frames_total / elapsed:.0f} frames/s, {elapsed:.1f} s including a durable close "
          f"of {time.perf_counter() - close_started:.2f} s); "
          f"append latency p50 {np.percentile(latencies, 50) * 1e3:.1f} ms, "
          f"p99 {np.percentile(latencies, 99) * 1e3:.1f} ms; "
          f"{on_disk / 2**30:.2f} GiB on disk (ratio {raw / max(on_disk, 1):.2f})")

    import zarr

    group = zarr.open_group(args.output, mode="r")
    print("\nstore structure (zarr-python):")
    print(group.tree())
    array = group["0"]
    print(array.info)
    ome = group.attrs["ome"]
    axes = ome["multiscales"][0]["axes"]
    print("OME-NGFF", ome["version"], "axes:",
          ", ".join(f"{a['name']} ({a['type']}{', ' + a['unit'] if 'unit' in a else ''})" for a in axes))

    assert array.shape == (args.timepoints, channels, size, size), array.shape
    for t, c in [(0, 0), (args.timepoints // 2, 1), (args.timepoints - 1, channels - 1)]:
        expected = pool[(t * channels + c) % len(pool)]
        if not np.array_equal(array[t, c], expected):
            print(f"MISMATCH at t={t}, c={c}")
            return 1
    print("read back: sampled frames match what was appended")
    return 0


if __name__ == "__main__":
    sys.exit(main())
