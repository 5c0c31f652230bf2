"""Soak: one long stream paced like a camera, watched minute by minute.

    python benchmarks/soak.py [--minutes 30] [--rate FPS] [--load 0.8] [--out DIR]

The lz4-v3 scenario's frames (2048 x 2048 uint16, microscopy-like, LZ4,
chunks 32 x 256 x 256, shards 1 x 8 x 8) are appended at a fixed rate: frame
i is due at t0 + i / rate, and the stream gets it as soon as it is due. The
rate is `--rate`, or `--load` (default 80%) of the throughput a tight loop
sustains in a 60 s calibration run just before (measured over its last 30 s,
once the page cache no longer absorbs part of the writes). Every minute it prints and
records: RSS, the descriptors the process holds, frames and GiB appended,
the p50/p99/max append latency, and how late the latest frame was (a camera
buffer holding 16 MiB or 2 frames would drop frames beyond that).

So that hours of frames fit on the disk, a helper thread deletes the shards
of rows the stream finished more than KEEP_SECONDS (10 s) ago (the stream
never reads them; their directories stay, as the store syncs them at close).
At 0.9 GiB/s that is about 5 GiB on disk at any time; the soak refuses to
start with less than twice the kept bytes free, and stops (FAIL) if the free
space ever falls below MIN_FREE_BYTES, so that it never fills the disk under
other work.

Pass: RSS and descriptors stay flat (the last minute within 10% / +8 of the
second minute), p99 <= 20 ms in every minute, and no frame later than the
camera buffer allows. The JSON summary goes to OUT/soak.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from scenarios import HEIGHT, SCENARIOS, WIDTH, frame_pool  # noqa: E402

import acquire_zarr as aqz  # noqa: E402

SCENARIO = SCENARIOS["lz4-v3"]
FRAME_BYTES = HEIGHT * WIDTH * 2
BUFFER_FRAMES = max(2, (16 << 20) // FRAME_BYTES)  # the camera's buffer


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def settings(path: Path) -> aqz.StreamSettings:
    kinds = {"time": aqz.DimensionType.TIME, "space": aqz.DimensionType.SPACE}
    dims = [aqz.Dimension(name=n, kind=kinds[k], array_size_px=s, chunk_size_px=c,
                          shard_size_chunks=sh) for n, k, s, c, sh in SCENARIO.dims]
    return aqz.StreamSettings(
        store_path=str(path), dimensions=dims, data_type=aqz.DataType.UINT16,
        version=aqz.ZarrVersion.V3, overwrite=True,
        compression=aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1,
                                            codec=aqz.CompressionCodec.BLOSC_LZ4,
                                            level=1, shuffle=1))


KEEP_SECONDS = 10.0
MIN_FREE_BYTES = 2 << 30


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


TRIM_STEP = 4 << 20  # bytes a janitor's truncate frees at once


class Janitor(threading.Thread):
    """Deletes shard rows (c/<t>) finished more than KEEP_SECONDS ago.

    A shard file is cut down TRIM_STEP bytes at a time (more when the
    janitor falls behind), the steps spread evenly over the second, then
    unlinked. On a filesystem mounted with
    `discard` (this machine's ext4), freeing blocks discards them on the
    spot: unlinking a whole 137 MiB shard at once held the filesystem for
    100-160 ms, and the stream's writes to new shards waited behind it (p99
    up to 42 ms and a max of 164 ms in a 20-minute soak, against 5.8 and 8.5 ms
    at the same rate with nothing deleted)."""

    def __init__(self, array: Path, frames_per_row: int):
        super().__init__(daemon=True)
        self.array, self.frames_per_row = array, frames_per_row
        self.appended = 0
        self.stop = threading.Event()
        self.low_on_space = False  # set once free space < MIN_FREE_BYTES

    def finished_rows(self, history: list[tuple[float, int]], now: float) -> int:
        """Rows of shards finished more than KEEP_SECONDS ago."""
        old = [n for t, n in history if now - t >= KEEP_SECONDS]
        return old[-1] // self.frames_per_row - 1 if old else 0  # the last may be open

    def run(self) -> None:
        history: list[tuple[float, int]] = []
        listed = 0  # rows whose files are queued
        queue: list[list] = []  # [path, bytes left] to cut down and remove, oldest first
        tick = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= tick:
                tick = now + 1.0
                if free_bytes(self.array.parent.parent) < MIN_FREE_BYTES:
                    self.low_on_space = True
                history.append((now, self.appended))
                for row in range(listed, max(listed, self.finished_rows(history, now))):
                    # Files only: the store syncs the directories it made at close.
                    for root, _, files in os.walk(self.array / "c" / str(row)):
                        for name in files:
                            path = os.path.join(root, name)
                            queue.append([path, os.path.getsize(path)])
                    listed = row + 1
                history = [(t, n) for t, n in history if now - t < 2 * KEEP_SECONDS]
            if queue:
                path, size = queue[0]
                # Behind (discards slower than the stream writes), in larger
                # steps: at most about 100 for all that waits.
                step = max(TRIM_STEP, sum(n for _, n in queue) // 100)
                if size > step:
                    os.truncate(path, size - step)
                    queue[0][1] = size - step
                else:
                    os.unlink(path)
                    queue.pop(0)
            steps_left = sum(-(-size // TRIM_STEP) or 1 for _, size in queue)
            self.stop.wait(max(0.0, tick - time.monotonic()) / (steps_left + 1))


def calibrate(out: Path, frames: list[np.ndarray], seconds: float = 60.0,
              settle: float = 30.0) -> tuple[float, float]:
    """Frames per second of a tight loop: over its first `settle` seconds, and
    over the rest (what the stream sustains here, returned second).

    The first seconds run partly into the page cache: until the kernel's
    dirty-page limit is reached (vm.dirty_ratio, 20% of memory by default:
    gigabytes), writes return before the disk has taken them, so a short
    loop measures more than the disk sustains. Pacing at a fraction of that
    would load the disk at more than the fraction asked for."""
    path = out / "calibrate.zarr"
    janitor = Janitor(path / "0", SCENARIO.dims[0][3])  # as in the soak itself
    n = settled = 0
    with aqz.ZarrStream(settings(path)) as stream:
        janitor.start()
        start = time.perf_counter()
        mark = None
        while (now := time.perf_counter()) - start < seconds:
            if mark is None and now - start >= settle:
                mark, settled = now, n
            stream.append(frames[n % len(frames)])
            n += 1
            janitor.appended = n
    end = time.perf_counter()  # close (the flush) included
    janitor.stop.set()
    janitor.join()
    shutil.rmtree(path, ignore_errors=True)
    return settled / (mark - start), (n - settled) / (end - mark)


def soak(out: Path, minutes: float, rate: float) -> dict:
    frames = frame_pool("microscopy")
    path = out / "soak.zarr"
    janitor = Janitor(path / "0", SCENARIO.dims[0][3])
    period = 1.0 / rate
    minutes_out = []
    latencies: list[float] = []
    worst_lateness = 0.0
    appended_this_minute = 0
    i = 0
    with aqz.ZarrStream(settings(path)) as stream:
        janitor.start()
        t0 = time.perf_counter()
        minute_end = t0 + 60
        deadline = t0 + minutes * 60
        while True:
            due = t0 + i * period
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            if due >= deadline or janitor.low_on_space:
                break
            started = time.perf_counter()
            worst_lateness = max(worst_lateness, started - due)
            stream.append(frames[i % len(frames)])
            latencies.append(time.perf_counter() - started)
            i += 1
            janitor.appended = i
            appended_this_minute += 1
            if time.perf_counter() >= minute_end:
                lat = np.array(latencies) * 1e3
                row = {
                    "minute": len(minutes_out) + 1,
                    "rss_mib": rss_bytes() / 2**20,
                    "descriptors": open_descriptors(),
                    "frames": appended_this_minute,
                    "gib_per_s": appended_this_minute * FRAME_BYTES / 2**30 / 60,
                    "p50_ms": float(np.percentile(lat, 50)),
                    "p99_ms": float(np.percentile(lat, 99)),
                    "max_ms": float(lat.max()),
                    "late_frames": worst_lateness / period,
                }
                minutes_out.append(row)
                print("  ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                for k, v in row.items()), flush=True)
                latencies, appended_this_minute, worst_lateness = [], 0, 0.0
                minute_end += 60
    janitor.stop.set()
    janitor.join()
    shutil.rmtree(path, ignore_errors=True)
    return {"rate_fps": rate, "frames": i, "minutes": minutes_out,
            "low_on_space": janitor.low_on_space}


def verdict(summary: dict) -> list[str]:
    rows = summary["minutes"]
    failures = []
    if summary.get("low_on_space"):
        failures.append(f"stopped early: less than {MIN_FREE_BYTES >> 30} GiB free on the disk")
    if len(rows) >= 3:
        base, last = rows[1], rows[-1]
        if last["rss_mib"] > base["rss_mib"] * 1.10:
            failures.append(f"RSS grew from {base['rss_mib']:.0f} to {last['rss_mib']:.0f} MiB")
        if last["descriptors"] > base["descriptors"] + 8:
            failures.append(f"descriptors grew from {base['descriptors']} to {last['descriptors']}")
    for row in rows:
        if row["p99_ms"] > 20:
            failures.append(f"minute {row['minute']}: p99 {row['p99_ms']:.1f} ms > 20 ms")
        if row["late_frames"] > BUFFER_FRAMES:
            failures.append(f"minute {row['minute']}: a frame {row['late_frames']:.1f} frames "
                            f"late (the camera buffer holds {BUFFER_FRAMES})")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, help="frames per second (default: measured)")
    parser.add_argument("--load", type=float, default=0.8,
                        help="fraction of the measured throughput (default 0.8)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/soak-out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    frames = frame_pool("microscopy")
    rate = args.rate
    if rate is None:
        first, tight = calibrate(args.out, frames)
        rate = tight * args.load
        gib = FRAME_BYTES / 2**30
        print(f"tight loop: {first:.1f} frames/s ({first * gib:.2f} GiB/s) in its first 30 s, "
              f"{tight:.1f} frames/s ({tight * gib:.2f} GiB/s) sustained after; "
              f"pacing at {args.load:.0%} of the sustained rate: {rate:.1f} frames/s", flush=True)
    needed = int(2 * KEEP_SECONDS * rate * FRAME_BYTES) + MIN_FREE_BYTES
    if free_bytes(args.out) < needed:
        print(f"soak: {free_bytes(args.out) / 2**30:.1f} GiB free in {args.out}, "
              f"{needed / 2**30:.1f} GiB needed at {rate:.1f} frames/s", file=sys.stderr)
        return 2
    summary = soak(args.out, args.minutes, rate)
    summary["failures"] = verdict(summary)
    (args.out / "soak.json").write_text(json.dumps(summary, indent=1))
    print("PASS" if not summary["failures"] else "FAIL:\n  " + "\n  ".join(summary["failures"]))
    return 0 if not summary["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
