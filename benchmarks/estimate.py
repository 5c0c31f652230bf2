"""Frame counts of run.py's phases, and the run time they should take,
printed before a run starts (and alone with `run.py --estimate`). Rates come
from the last report (results/latest.json) where it has them, else from the
guesses below."""

from __future__ import annotations

import json
from pathlib import Path

from scenarios import Scenario

S3_MAX_FRAMES = 256  # the local S3 server (SeaweedFS) is slower than the disk
# Per writer process: start, imports, loading the frames, read-back, the
# sync and pause after it.
RUN_OVERHEAD_S = 4.0
# GiB/s assumed for a writer that the last report does not cover.
GUESS_GIB_PER_S = {"ours": 1.2, "acquire-zarr": 0.5, "tensorstore": 0.4, "zarr-python": 0.2}
GUESS_S3_GIB_PER_S = 0.2
# Frames/s assumed for the small-frame scenarios (a per-frame cost, not a
# bandwidth, sets them): the shakedown's figures on a loaded machine, rounded up.
GUESS_SMALL_FPS = {
    "small-512": {"ours": 2000, "acquire-zarr": 500, "tensorstore": 300, "zarr-python": 200},
    "tiny-128": {"ours": 20000, "acquire-zarr": 2000, "tensorstore": 5000, "zarr-python": 1000},
}
SUSTAINED_GUESS = 0.9  # sustained rate as a fraction of the tight loop, for the estimate
FLAT_BASE_BYTES = 2 << 30  # the flat figure's shorter run: at most 2 GiB of frames


def whole(s: Scenario, frames: int) -> int:
    """`frames` rounded up to what writer.py runs (a multiple of frame_multiple)."""
    m = s.frame_multiple
    return max(m, -(-frames // m) * m)


def throughput_frames(s: Scenario, args) -> int:
    if s.small:
        return whole(s, args.small_frames or s.frames)
    return min(args.frames, S3_MAX_FRAMES) if s.s3 else args.frames


def sustained_frames(s: Scenario, args) -> int:
    """At least --sustained-frames, and at least 8 camera buffers' worth, so
    that a small-frame buffer (1024 frames of tiny-128) is overrun many times
    over if the writer falls behind."""
    return whole(s, max(args.sustained_frames, 8 * s.buffer_frames))


def flat_frames(s: Scenario, args) -> int:
    return whole(s, min(throughput_frames(s, args), FLAT_BASE_BYTES // s.frame_bytes))


def prior_rates(path: Path) -> dict:
    """(scenario, writer) -> GiB/s of the last report's throughput runs."""
    try:
        results = json.loads(path.read_text()).get("results", {})
    except (OSError, ValueError):
        return {}
    return {(sid, w): v["gib_per_s"] for sid, by in results.items() for w, v in by.items()
            if v.get("gib_per_s")}


def gib_per_s(prior: dict, s: Scenario, writer: str) -> float:
    if s.id in GUESS_SMALL_FPS:
        guess = GUESS_SMALL_FPS[s.id].get(writer, 200) * s.frame_bytes / 2**30
    else:
        guess = GUESS_S3_GIB_PER_S if s.s3 else GUESS_GIB_PER_S.get(writer, 0.3)
    return prior.get((s.id, writer), guess)


def bisection_seconds(run_s: float, steps: int) -> tuple[float, int]:
    """Seconds and runs of a bisection whose tight loop takes run_s and whose
    writer sustains SUSTAINED_GUESS of it: one failing run at the tight
    loop's rate, then `steps` halvings of [0, tight loop]."""
    total, runs = run_s, 1
    lo, hi = 0.0, 1.0
    for _ in range(steps):
        mid = (lo + hi) / 2 if lo else hi / 2
        total += run_s / mid
        runs += 1
        if mid <= SUSTAINED_GUESS:
            lo = mid
        else:
            hi = mid
    return total, runs


def expected_seconds(args, scenarios: dict, writers: list[str], sustained_writers: list[str],
                     overhead_writers: list[str], prior: dict) -> dict:
    """Seconds per phase."""
    out = {"throughput": 0.0, "flat": 0.0, "small": 0.0, "sustained": 0.0}
    for s in scenarios.values():
        for w in writers:
            rate = gib_per_s(prior, s, w) * 2**30
            n = throughput_frames(s, args)
            if {"throughput", "cpu"} & args.figures:
                out["throughput"] += args.repeat * (n * s.frame_bytes / rate + RUN_OVERHEAD_S)
            if "small" in args.figures and s.small and w in overhead_writers:
                c_runs = args.repeat if w == "ours" else 0
                out["small"] += (args.repeat + c_runs) * (n * s.frame_bytes / rate + RUN_OVERHEAD_S)
            if "flat" in args.figures and w == "ours":
                base = flat_frames(s, args)
                out["flat"] += (1 + args.flat_factor) * base * s.frame_bytes / rate + 2 * RUN_OVERHEAD_S
            if "sustained" in args.figures and w in sustained_writers:
                seconds, runs = bisection_seconds(sustained_frames(s, args) * s.frame_bytes / rate,
                                                  args.bisect_steps)
                out["sustained"] += seconds + runs * RUN_OVERHEAD_S
    return out


def max_run_gib(args, scenarios: dict) -> float:
    """Raw GiB of the longest single run: the free space a run needs."""
    sizes = [0.0]
    for s in scenarios.values():
        sizes.append(throughput_frames(s, args) * s.frame_bytes / 2**30)
        if "flat" in args.figures:
            sizes.append(flat_frames(s, args) * args.flat_factor * s.frame_bytes / 2**30)
        if "sustained" in args.figures:
            sizes.append(sustained_frames(s, args) * s.frame_bytes / 2**30)
    return max(sizes)
