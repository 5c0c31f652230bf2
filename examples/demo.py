"""The `make demo` job: stream a realistic synthetic acquisition to a local
Zarr v3 store with a multiscale pyramid, show progress and throughput, open
the result with zarr-python and check what was written, then draw what the
store holds and how the run went into a PNG beside the store.

    python examples/demo.py [--output demo.zarr] [--frames 288] [--size 2048] [--png demo.png]

--frames counts 2-D frames (3 channels per timepoint, so it is rounded up to
a multiple of 3); the default, 96 timepoints of 3 x 2048 x 2048 uint16, is
2.25 GiB of raw data. The pyramid (2x2 mean) halves y and x down to one
chunk: levels 0-3 at the default size. The PNG (default: the store's path
with .png for .zarr) shows one frame of level 0 beside the same frame at
every pyramid level, and the throughput and append latency over time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import acquire_zarr as aqz

CHANNELS = 3


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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="demo.zarr")
    parser.add_argument("--frames", type=int, default=None,
                        help="2-D frames to stream (rounded up to whole timepoints of 3 channels)")
    parser.add_argument("--timepoints", type=int, default=96, help="t steps (3 channels each)")
    parser.add_argument("--size", type=int, default=2048, help="frame height and width")
    parser.add_argument("--png", default=None,
                        help="picture of the result (default: the store's path with .png)")
    args = parser.parse_args()
    if args.frames is not None:
        args.timepoints = -(-args.frames // CHANNELS)
    if args.timepoints < 1 or args.size < 1:
        parser.error("--frames/--timepoints and --size must be positive")
    if args.png is None:
        stem = args.output.rstrip("/")
        args.png = (stem[:-len(".zarr")] if stem.endswith(".zarr") else stem) + ".png"
    return args


def stream_settings(args: argparse.Namespace) -> aqz.StreamSettings:
    size = args.size
    # 256 px chunks at 2048 px (8x8 per shard); an eighth of the frame below
    # that, so a small run still has a pyramid of a few levels.
    chunk = max(1, min(256, size // 8))
    shard = min(8, -(-size // chunk))
    space = dict(kind=aqz.DimensionType.SPACE, array_size_px=size, chunk_size_px=chunk,
                 shard_size_chunks=shard, unit="micrometer", scale=0.65)
    return aqz.StreamSettings(
        store_path=args.output,
        data_type=aqz.DataType.UINT16,
        version=aqz.ZarrVersion.V3,
        overwrite=True,
        multiscale=True,
        downsampling_method=aqz.DownsamplingMethod.MEAN,
        compression=aqz.CompressionSettings(
            compressor=aqz.Compressor.BLOSC1,
            codec=aqz.CompressionCodec.BLOSC_LZ4,
            level=1,
            shuffle=1,
        ),
        dimensions=[
            aqz.Dimension(name="t", kind=aqz.DimensionType.TIME, array_size_px=0,
                          chunk_size_px=16, shard_size_chunks=1, unit="second", scale=0.5),
            aqz.Dimension(name="c", kind=aqz.DimensionType.CHANNEL, array_size_px=CHANNELS,
                          chunk_size_px=1, shard_size_chunks=1),
            aqz.Dimension(name="y", **space),
            aqz.Dimension(name="x", **space),
        ],
    )


def stream(args: argparse.Namespace, pool: list[np.ndarray], timings) -> float:
    """Append every frame, timing each append; returns the seconds from the
    stream's creation to the end of its close."""
    frames_total = args.timepoints * CHANNELS
    created = time.perf_counter()
    with aqz.ZarrStream(stream_settings(args)) as zs:
        started = time.perf_counter()  # the timings' zero: the first append
        for i in range(frames_total):
            t0 = time.perf_counter()
            zs.append(pool[i % len(pool)])
            timings.record(started, t0, time.perf_counter())
            if i % 8 == 7 or i == frames_total - 1:
                progress(i + 1, frames_total, started, (i + 1) * timings.frame_bytes)
        close_started = time.perf_counter()
    timings.close_seconds = time.perf_counter() - close_started
    return time.perf_counter() - created


def check_store(args: argparse.Namespace, pool: list[np.ndarray]):
    """Open the store with zarr-python, print its layout, compare samples; the group, or None."""
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
    levels = [d["path"] for d in ome["multiscales"][0]["datasets"]]
    print("pyramid:", "; ".join(f"level {p} {group[p].shape}" for p in levels))

    assert array.shape == (args.timepoints, CHANNELS, args.size, args.size), array.shape
    for t, c in [(0, 0), (args.timepoints // 2, 1), (args.timepoints - 1, CHANNELS - 1)]:
        expected = pool[(t * CHANNELS + c) % len(pool)]
        if not np.array_equal(array[t, c], expected):
            print(f"MISMATCH at t={t}, c={c}")
            return None
    print("read back: sampled frames match what was appended")
    return group


def main() -> int:
    args = parse_args()
    # demo_plot.py sits beside this script, whatever the working directory.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from demo_plot import RunTimings, draw

    size = args.size
    frames_total = args.timepoints * CHANNELS
    print(f"acquire-zarr {aqz.__version__}: streaming {args.timepoints} timepoints x "
          f"{CHANNELS} channels of {size}x{size} uint16 "
          f"({frames_total * size * size * 2 / 2**30:.2f} GiB) to {args.output}")
    print("generating 16 synthetic frames (not timed) ...")
    pool = microscopy_frames(16, size, size)

    timings = RunTimings(frame_bytes=size * size * 2)
    elapsed = stream(args, pool, timings)
    raw = frames_total * timings.frame_bytes
    on_disk = directory_bytes(args.output)
    print()
    print(f"throughput: {raw / elapsed / 2**30:.2f} GiB/s raw "
          f"({frames_total / elapsed:.0f} frames/s, {elapsed:.1f} s including a durable close "
          f"of {timings.close_seconds:.2f} s); "
          f"append latency p50 {np.percentile(timings.latencies, 50) * 1e3:.1f} ms, "
          f"p99 {np.percentile(timings.latencies, 99) * 1e3:.1f} ms; "
          f"{on_disk / 2**30:.2f} GiB on disk with every level "
          f"(ratio of level 0's raw bytes to that: {raw / max(on_disk, 1):.2f})")

    group = check_store(args, pool)
    if group is None:
        return 1
    title = (f"acquire-zarr {aqz.__version__}: {os.path.basename(os.path.abspath(args.output))}, "
             f"{args.timepoints} x {CHANNELS} x {size} x {size} uint16, "
             f"{raw / elapsed / 2**30:.2f} GiB/s from create to close ({elapsed:.1f} s)")
    draw(args.png, group, timings, title, t=args.timepoints // 2)
    print(f"picture: {os.path.abspath(args.png)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
