"""`make bench`: every scenario of shared/BENCHMARKS.md, this library against
acquire-zarr (PyPI), TensorStore and zarr-python in the same run, with the
machine's ceilings measured in the same run. Prints one table per figure and
writes results/<timestamp>.json, results/latest.json and results/latest.png.

    python benchmarks/run.py [--quick] [--figures ceilings,throughput,cpu,sustained,small,flat]
                             [--scenarios raw-v3,lz4-v3] [--writers ours,tensorstore]
                             [--frames N] [--small-frames N] [--repeat K]
                             [--sustained-frames N] [--bisect-steps K] [--estimate]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import estimate  # noqa: E402
from ceilings import (S3_BUCKET, S3_CEILING_PARALLEL, codec_ceiling, delete_prefix,  # noqa: E402
                      disk_bandwidth, durable_disk_bandwidth, memcpy_bandwidth, s3_server_ceiling,
                      start_s3)
import tables  # noqa: E402
from scenarios import SCENARIOS, scenario_pool  # noqa: E402

PEERS_VENV = HERE / ".venv-peers"
PEER_PACKAGES = ["acquire-zarr", "tensorstore", "zarr", "numcodecs", "numpy", "matplotlib", "s3fs"]
WRITERS = ["ours", "acquire-zarr", "tensorstore", "zarr-python"]
FIGURES = ["ceilings", "throughput", "cpu", "sustained", "small", "flat"]
# Behind the camera: the streaming writers and TensorStore (zarr-python, the
# slow baseline, is measured for throughput and CPU only).
SUSTAINED_WRITERS = ["ours", "acquire-zarr", "tensorstore"]
# Per-append overhead: the writers that append one frame per call.
OVERHEAD_WRITERS = ["ours", "acquire-zarr"]


def peers_python() -> Path:
    """The peers' environment, created once (acquire-zarr from PyPI has our
    module name, so it lives apart from .venv)."""
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / ".installed"
    if not stamp.exists() or stamp.read_text() != " ".join(PEER_PACKAGES):
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", *PEER_PACKAGES], check=True)
        stamp.write_text(" ".join(PEER_PACKAGES))
    return python


def package_version(python: Path, dist: str) -> str:
    out = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version('{dist}'))"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


def run_writer(python: Path, writer: str, scenario: str, frames: int, args, s3=None,
               extra: tuple = (), timeout: float | None = None) -> dict:
    """One writer process (writer.py); its JSON line, or a status."""
    cmd = [str(python), str(HERE / "writer.py"), "--writer", writer, "--scenario", scenario,
           "--frames", str(frames), "--out", str(args.dir), "--pool", str(pool_path(args, scenario)),
           *extra]
    env = dict(os.environ)
    # numpy's OpenBLAS threads are of no use to any writer and can spin on
    # the two cores the writers share; the same for every writer.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    if python != Path(sys.executable):
        # A peer's environment imports its own acquire_zarr: never ours
        # through a PYTHONPATH meant for this interpreter.
        env.pop("PYTHONPATH", None)
    if s3 is not None:
        env.update(s3.env(), BENCH_S3_ENDPOINT=s3.endpoint, BENCH_S3_BUCKET=S3_BUCKET)
    timeout = timeout or args.timeout
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"writer": writer, "scenario": scenario, "status": f"timeout after {timeout:.0f} s"}
    finally:
        clean_up(args.dir / f"{writer}-{scenario}.zarr", s3)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"writer": writer, "scenario": scenario, "status": f"failed: {tail[0][:200]}"}
    return json.loads(lines[-1])


def clean_up(store: Path, s3=None) -> None:
    shutil.rmtree(store, ignore_errors=True)
    if s3 is not None:
        delete_prefix(s3, f"{store.name}/")
    # Let the filesystem finish freeing and writing back before the next
    # writer starts, so nobody pays for the previous run.
    os.sync()
    time.sleep(1)


def pool_path(args, sid: str) -> Path:
    return args.dir / f"pool-{sid}.npy"


def write_pools(args, scenarios: list[str]) -> None:
    """Each scenario's frames, generated once per invocation: every writer
    process (and the C program) loads the same frames."""
    for sid in scenarios:
        stack = np.stack(scenario_pool(SCENARIOS[sid]))
        np.save(pool_path(args, sid), stack)
        if SCENARIOS[sid].small:  # for the C program
            stack.tofile(args.dir / f"pool-{sid}.raw")


def median_of(runs: list[dict]) -> dict:
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        return {"status": runs[-1].get("status", "failed"), "runs": len(runs)}
    pick = sorted(ok, key=lambda r: r["gib_per_s"])[len(ok) // 2]

    def med(key):
        return statistics.median(r[key] for r in ok)

    return {
        "status": "ok" if len(ok) == len(runs) else f"{len(runs) - len(ok)} of {len(runs)} runs failed",
        "runs": len(runs),
        "gib_per_s": med("gib_per_s"),
        "gib_per_s_all": [round(r["gib_per_s"], 3) for r in ok],
        "frames_per_s": med("frames_per_s"),
        "cpu_s_per_gib": med("cpu_s_per_gib"),
        "cpu_s_per_gib_all": [round(r["cpu_s_per_gib"], 3) for r in ok],
        "cpu_setup_s": med("cpu_setup_s"),
        "p50_ms": statistics.median(r["latency_ms"]["p50"] for r in ok),
        "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in ok),
        "max_ms": statistics.median(r["latency_ms"]["max"] for r in ok),
        "peak_rss_mib": med("peak_rss_mib"),
        "setup_ms": med("setup_s") * 1e3,
        "bytes_on_disk": pick["bytes_on_disk"],
        "frames": pick["frames"],
        "correct": all(r["correct"] for r in ok),
        "latencies_ms": pick["latencies_ms"],
    }


# --- the phases ------------------------------------------------------------------------

def throughput_phase(args, scenarios, writers, python_for, s3, disk, s3_ceilings) -> dict:
    """Tight loops, `repeat` times over every scenario and writer, the disk
    and S3 ceilings measured again before each repeat: GiB/s, latencies,
    RSS, CPU."""
    raw: dict = {}
    for rep in range(args.repeat):
        if "ceilings" in args.figures:
            disk.append(durable_disk_bandwidth(args.dir))
            print(f"[run {rep + 1}/{args.repeat}] disk ceiling {disk[-1]:.2f} GiB/s", flush=True)
        if s3 is not None and "ceilings" in args.figures:
            s3_ceilings.append(s3_server_ceiling(s3))
            print(f"[run {rep + 1}/{args.repeat}] S3 server ceiling {s3_ceilings[-1]:.3f} GiB/s", flush=True)
        for sid in scenarios:
            for writer in writers:
                r = run_writer(python_for[writer], writer, sid, estimate.throughput_frames(SCENARIOS[sid], args),
                               args, s3 if SCENARIOS[sid].s3 else None)
                raw.setdefault(sid, {}).setdefault(writer, []).append(r)
                speed = (f"{r['gib_per_s']:.3f} GiB/s, {r['cpu_s_per_gib']:.2f} CPU s/GiB"
                         if "gib_per_s" in r else r.get("status"))
                print(f"[run {rep + 1}/{args.repeat}] {sid:<9} {writer:<13} {speed}", flush=True)
    return {sid: {w: median_of(runs) for w, runs in by.items()} for sid, by in raw.items()}


def flat_phase(args, scenarios, results, s3) -> dict:
    """Ours at the throughput runs' length (capped at 2 GiB of frames) and
    at FLAT_FACTOR times that, one run each: memory and speed stay flat."""
    flat = {}
    for sid in scenarios:
        s = SCENARIOS[sid]
        base = estimate.flat_frames(s, args)
        runs = {}
        for name, n in (("base", base), ("long", base * args.flat_factor)):
            r = run_writer(Path(sys.executable), "ours", sid, n, args, s3 if s.s3 else None)
            r.pop("latencies_ms", None)
            runs[name] = r
            speed = f"{r['gib_per_s']:.3f} GiB/s, {r['peak_rss_mib']:.0f} MiB" if "gib_per_s" in r else r["status"]
            print(f"[flat] {sid:<9} {n:>6} frames: {speed}", flush=True)
        flat[sid] = runs
    return flat


GROW = 1.5  # a writer that keeps up with its tight loop's rate is offered this much more
GROW_STEPS = 2


def bisect_rate(args, python: Path, writer: str, sid: str, tight_fps: float | None, s3) -> dict:
    """The highest offered rate at which the camera's buffer never
    overflowed: the tight loop's rate first (raised by GROW while it passes,
    at most GROW_STEPS times), then `bisect_steps` halvings of the interval
    between the highest passing and the lowest failing rate (of [0, rate]
    while nothing passed). Each rate is one writer process of
    sustained_frames frames."""
    s = SCENARIOS[sid]
    n = estimate.sustained_frames(s, args)
    tried: list[tuple[float, bool]] = []

    def attempt(rate: float) -> dict:
        r = run_writer(python, writer, sid, n, args, s3 if s.s3 else None,
                       ("--mode", "sustained", "--rate", f"{rate:.3f}"), timeout=3 * n / max(rate, 1) + 300)
        if r.get("status") == "ok" and rate > 0:
            tried.append((round(rate, 1), r["passed"]))
            late = (f"max late {r['max_late_ms']:.1f} of {r['allowed_late_ms']:.1f} ms" if r["passed"]
                    else f"dropped frame {r['dropped_at']}")
            print(f"[sustained] {sid:<9} {writer:<13} {rate:9.0f} frames/s: {late}", flush=True)
        return r

    if not tight_fps:  # no throughput run in this invocation: an unpaced run is the reference
        r = attempt(0.0)
        if r.get("status") != "ok":
            return {"status": r.get("status"), "rate_fps": None}
        tight_fps = r["frames_taken"] / (r["append_s"] + r["close_s"])
    lo, hi, rate = 0.0, None, tight_fps
    for _ in range(1 + GROW_STEPS):
        r = attempt(rate)
        if r.get("status") != "ok":
            return {"status": r.get("status"), "rate_fps": None, "tried": tried}
        if not r["passed"]:
            hi = rate
            break
        lo, rate = rate, rate * GROW
    for _ in range(args.bisect_steps if hi else 0):
        rate = (lo + hi) / 2 if lo else hi / 2
        r = attempt(rate)
        if r.get("status") != "ok":
            break
        lo, hi = (rate, hi) if r["passed"] else (lo, rate)
    return {"status": "ok", "frames": n, "rate_fps": lo or None, "gib_per_s": lo * s.frame_bytes / 2**30,
            "tight_fps": tight_fps, "of_tight_loop": lo / tight_fps, "never_dropped": hi is None,
            "tried": tried}


def sustained_phase(args, scenarios, writers, python_for, results, s3) -> dict:
    out: dict = {}
    for sid in scenarios:
        for writer in [w for w in writers if w in SUSTAINED_WRITERS]:
            tight = results.get(sid, {}).get(writer, {}).get("frames_per_s")
            out.setdefault(sid, {})[writer] = bisect_rate(args, python_for[writer], writer, sid, tight, s3)
    return out


def c_bench(args) -> Path:
    """benchmarks/append_bench.c, built against the library of a build tree:
    --c-build, or build/bench configured here (the library alone)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    build = args.c_build or REPO / "build" / "bench"
    if args.c_build is None:
        if not (build / "CMakeCache.txt").exists():
            subprocess.run(["cmake", "-S", str(REPO), "-B", str(build), "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF",
                            "-DACQUIRE_ZARR_BUILD_PYTHON=OFF"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", str(build), "--target", "acquire_zarr"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    lib = next(build.rglob("libacquire_zarr.so"))
    exe = build / "append_bench"
    subprocess.run([os.environ.get("CC", "cc"), "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o", str(exe),
                    str(HERE / "append_bench.c"), "-I", str(REPO / "include"), "-L", str(lib.parent),
                    "-lacquire_zarr", f"-Wl,-rpath,{lib.parent}"], check=True, env=env)
    return exe


def run_c(exe: Path, args, sid: str, frames: int) -> dict:
    s = SCENARIOS[sid]
    store = args.dir / f"c-{sid}.zarr"
    geometry = [s.height, s.width, *s.chunks(), *(d[4] for d in s.dims)]
    cmd = [str(exe), str(store), str(args.dir / f"pool-{sid}.raw"), str(frames), str(np.dtype(s.dtype).itemsize),
           "1" if s.codec == "lz4" else "0", *map(str, geometry)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    finally:
        clean_up(store)
    if out.returncode != 0:
        return {"status": f"failed: {out.stderr.strip()[-200:]}"}
    return {"status": "ok", **json.loads(out.stdout.strip().splitlines()[-1])}


def small_phase(args, scenarios, writers, python_for) -> dict:
    """Per-append overhead on the small-frame scenarios: ours from C and from
    Python, acquire-zarr from Python; `repeat` runs each, medians."""
    small = [sid for sid in scenarios if SCENARIOS[sid].small]
    out: dict = {}
    exe = c_bench(args) if small and "ours" in writers else None
    for sid in small:
        frames = estimate.throughput_frames(SCENARIOS[sid], args)
        for writer in [w for w in writers if w in OVERHEAD_WRITERS]:
            v: dict = {}
            runs = [run_writer(python_for[writer], writer, sid, frames, args, extra=("--mode", "overhead"))
                    for _ in range(args.repeat)]
            ok = [r for r in runs if r.get("status") == "ok"]
            if ok:
                v["python_append_us"] = statistics.median(r["append_us"] for r in ok)
                v["python_frames_per_s"] = statistics.median(r["frames_per_s"] for r in ok)
            else:
                v["status"] = runs[-1].get("status")
            if writer == "ours" and exe is not None:
                c_runs = [r for r in (run_c(exe, args, sid, frames) for _ in range(args.repeat))
                          if r["status"] == "ok"]
                if c_runs:
                    v["c_append_us"] = statistics.median(r["append_us"] for r in c_runs)
                    v["c_frames_per_s"] = statistics.median(r["frames_per_s"] for r in c_runs)
            print(f"[small] {sid:<9} {writer:<13} " +
                  ", ".join(f"{k} {x:.2f}" for k, x in v.items() if isinstance(x, float)), flush=True)
            out.setdefault(sid, {})[writer] = v
    return out


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: 64 frames (2,000 for small frames), one run, 128 frames and "
                             "2 steps per sustained bisection")
    parser.add_argument("--figures", default=",".join(FIGURES), help="any of " + ",".join(FIGURES))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--writers", default=",".join(WRITERS))
    parser.add_argument("--frames", type=int, default=None, help="frames per throughput run (256)")
    parser.add_argument("--small-frames", type=int, default=None,
                        help="frames per small-frame run (the scenario's: 20,000)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per figure, medians reported (3)")
    parser.add_argument("--sustained-frames", type=int, default=None,
                        help="frames per sustained run, at least 8 camera buffers (512)")
    parser.add_argument("--bisect-steps", type=int, default=None, help="halvings after the first drop (5)")
    parser.add_argument("--flat-factor", type=int, default=4, help="the flat figure's longer run, x frames")
    parser.add_argument("--c-build", type=Path, default=None,
                        help="a build tree holding libacquire_zarr.so for the C program (else build/bench)")
    parser.add_argument("--estimate", action="store_true", help="print the expected run time and stop")
    parser.add_argument("--dir", type=Path, default=HERE / ".data", help="where stores are written")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per writer run")
    args = parser.parse_args()
    args.figures = {f for f in args.figures.split(",") if f}
    unknown = args.figures - set(FIGURES) or {w for w in args.writers.split(",") if w} - set(WRITERS) \
        or {s for s in args.scenarios.split(",") if s} - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    args.frames = args.frames or (64 if args.quick else 256)
    args.small_frames = args.small_frames or (2000 if args.quick else None)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.sustained_frames = args.sustained_frames or (128 if args.quick else 512)
    args.bisect_steps = args.bisect_steps if args.bisect_steps is not None else (2 if args.quick else 5)
    return args


def print_estimate(args, scenarios: list[str], writers: list[str]) -> None:
    phases = estimate.expected_seconds(args, {sid: SCENARIOS[sid] for sid in scenarios}, writers,
                                       SUSTAINED_WRITERS, OVERHEAD_WRITERS,
                                       estimate.prior_rates(HERE / "results" / "latest.json"))
    total = sum(phases.values())
    print("expected run time: " + ", ".join(f"{k} {v / 60:.0f} min" for k, v in phases.items() if v) +
          f"; about {total / 60:.0f} min in all, plus the ceilings (rates from results/latest.json "
          f"where it has them)", flush=True)


def measure_ceilings(args, peers: Path) -> dict:
    print("measuring ceilings ...", flush=True)
    return {"disk_buffered_gib_per_s": disk_bandwidth(args.dir, direct=False),
            "memcpy_gib_per_s": memcpy_bandwidth(),
            "codec": {c: codec_ceiling(peers, c) for c in ("lz4", "zstd")}}


def main() -> int:
    args = parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    writers = [w for w in args.writers.split(",") if w]
    args.dir.mkdir(parents=True, exist_ok=True)
    print_estimate(args, scenarios, writers)
    if args.estimate:
        return 0
    need = estimate.max_run_gib(args, {sid: SCENARIOS[sid] for sid in scenarios}) + 2
    free = shutil.disk_usage(args.dir).free / 2**30
    if free < need:
        print(f"only {free:.1f} GiB free under {args.dir}; this run needs about {need:.0f}", file=sys.stderr)
        return 1

    peers = peers_python()
    python_for = {"ours": Path(sys.executable)}
    python_for.update({w: peers for w in WRITERS if w != "ours"})
    versions = {"ours": package_version(Path(sys.executable), "acquire-zarr"),
                "acquire-zarr": package_version(peers, "acquire-zarr"),
                "tensorstore": package_version(peers, "tensorstore"),
                "zarr-python": package_version(peers, "zarr")}
    write_pools(args, scenarios)
    ceilings = measure_ceilings(args, peers) if "ceilings" in args.figures else {}
    disk: list[float] = []  # measured again before every repeat: the disk drifts over an invocation
    s3_ceilings: list[float] = []
    s3 = start_s3() if any(SCENARIOS[sid].s3 for sid in scenarios) else None
    results, flat, small, sustained = {}, {}, {}, {}
    try:
        if {"throughput", "cpu"} & args.figures:
            results = throughput_phase(args, scenarios, writers, python_for, s3, disk, s3_ceilings)
        if "flat" in args.figures and "ours" in writers:
            flat = flat_phase(args, scenarios, results, s3)
        if "small" in args.figures:
            small = small_phase(args, scenarios, writers, python_for)
        if "sustained" in args.figures:
            sustained = sustained_phase(args, scenarios, writers, python_for, results, s3)
    finally:
        if s3 is not None:
            s3.stop()
        for pool in args.dir.glob("pool-*"):
            pool.unlink()

    if s3_ceilings:
        ceilings["s3_gib_per_s"] = statistics.median(s3_ceilings)
        ceilings["s3_gib_per_s_all"] = [round(c, 3) for c in s3_ceilings]
    if disk:
        ceilings["disk_gib_per_s"] = statistics.median(disk)
        ceilings["disk_gib_per_s_all"] = [round(d, 3) for d in disk]
    report = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "frames": args.frames, "repeat": args.repeat, "figures": sorted(args.figures),
        "sustained_frames": args.sustained_frames, "bisect_steps": args.bisect_steps,
        "flat_factor": args.flat_factor,
        "versions": versions, "ceilings": ceilings, "s3_parallel": S3_CEILING_PARALLEL,
        "scenarios": {sid: {"frame_bytes": SCENARIOS[sid].frame_bytes,
                            "frame": f"{SCENARIOS[sid].height}x{SCENARIOS[sid].width} {SCENARIOS[sid].dtype}"}
                      for sid in scenarios},
        "results": results, "sustained": sustained, "small": small, "flat": flat,
    }
    print()
    print(tables.all_tables(report))
    write_report(report, peers)
    wrong = [f"{s}/{w}" for s, by in results.items() for w, v in by.items() if v.get("correct") is False]
    if wrong:
        print("WRONG DATA read back from:", ", ".join(wrong), file=sys.stderr)
        return 1
    return 0


def write_report(report: dict, peers: Path) -> None:
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in (f"{stamp}.json", "latest.json"):
        (out_dir / name).write_text(json.dumps(report, indent=1) + "\n")
    chart = subprocess.run([str(peers), str(HERE / "plot.py"), str(out_dir / "latest.json"),
                            str(out_dir / "latest.png")], capture_output=True, text=True)
    if chart.returncode != 0:
        print("chart failed:", chart.stderr[-500:], file=sys.stderr)
    print(f"\nwrote {out_dir / 'latest.json'} and {out_dir / 'latest.png'}")


if __name__ == "__main__":
    sys.exit(main())
