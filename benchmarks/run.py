"""`make bench`: every scenario of shared/BENCHMARKS.md, this library against
acquire-zarr (PyPI), TensorStore and zarr-python in the same run, with the
machine's ceilings measured in the same run. Prints a table and writes
results/<timestamp>.json, results/latest.json and results/latest.png.

    python benchmarks/run.py [--quick] [--frames N] [--repeat K]
                             [--scenarios raw-v3,lz4-v3] [--writers ours,tensorstore]
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
from scenarios import SCENARIOS  # noqa: E402

PEERS_VENV = HERE / ".venv-peers"
PEER_PACKAGES = ["acquire-zarr", "tensorstore", "zarr", "numcodecs", "numpy", "matplotlib", "s3fs"]
S3_BUCKET = "bench"
S3_MAX_FRAMES = 256  # the local S3 server (SeaweedFS) is slower than the disk
WRITERS = ["ours", "acquire-zarr", "tensorstore", "zarr-python"]


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


# --- ceilings ----------------------------------------------------------------------------

def disk_bandwidth(directory: Path, gib: float = 2.0, direct: bool = True, writers: int = 1) -> float:
    """`writers` threads each write their own file sequentially in 8 MiB
    blocks, then fdatasync it; GiB/s of all of them together. With `direct`
    (O_DIRECT, page-aligned buffers) the page cache is bypassed, as the
    library does for uncompressed chunks; falls back to buffered writes where
    the filesystem refuses O_DIRECT."""
    import mmap
    from concurrent.futures import ThreadPoolExecutor

    noise = np.random.default_rng(0).integers(0, 256, 8 << 20, dtype=np.uint8).tobytes()
    n = int(gib * 2**30) // len(noise) // writers

    def write(i: int) -> None:
        path = directory / f"ceiling-{i}.bin"
        block = mmap.mmap(-1, len(noise))  # page-aligned
        block.write(noise)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        try:
            fd = os.open(path, flags | (os.O_DIRECT if direct else 0), 0o644)
        except OSError:
            fd = os.open(path, flags, 0o644)
        try:
            for _ in range(n):
                os.write(fd, block)
            os.fdatasync(fd)
        finally:
            os.close(fd)
            block.close()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(writers) as ex:
        list(ex.map(write, range(writers)))
    seconds = time.perf_counter() - t0
    for i in range(writers):
        (directory / f"ceiling-{i}.bin").unlink()
    return writers * n * len(noise) / seconds / 2**30


def durable_disk_bandwidth(directory: Path) -> float:
    """The best of 1, 2 and 4 concurrent direct writers: the disk's durable
    bandwidth as a parallel writer can get it."""
    return max(disk_bandwidth(directory, writers=w) for w in (1, 2, 4))


def memcpy_bandwidth() -> float:
    src = np.ones(256 << 20, dtype=np.uint8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = max(best, src.nbytes / (time.perf_counter() - t0) / 2**30)
    return best


CODEC_CEILING = r"""
import json, os, sys, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np
sys.path.insert(0, sys.argv[1])
from scenarios import frame_pool, POOL
from numcodecs import blosc
blosc.use_threads = False
cname = sys.argv[2]
frames = frame_pool("microscopy")
# chunk-sized pieces (32 x 256 x 256 uint16 = 4 MiB), as the writers compress
pieces = [np.ascontiguousarray(np.stack([f[y:y+256, x:x+256] for f in frames * 4]))
          for y in range(0, 2048, 256) for x in range(0, 2048, 256)]
def one(p):
    return len(blosc.compress(p, cname.encode(), 1, blosc.SHUFFLE))
with ThreadPoolExecutor(os.cpu_count()) as ex:
    list(ex.map(one, pieces[:4]))
    t0 = time.perf_counter()
    sizes = list(ex.map(one, pieces * 2))
    seconds = time.perf_counter() - t0
raw = sum(p.nbytes for p in pieces) * 2
print(json.dumps({"gib_per_s": raw / seconds / 2**30, "ratio": raw / sum(sizes)}))
"""


def codec_ceiling(python: Path, cname: str) -> dict:
    out = subprocess.run([str(python), "-c", CODEC_CEILING, str(HERE), cname],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return {"error": out.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- runs --------------------------------------------------------------------------------

def start_s3():
    """SeaweedFS's S3 gateway on loopback (tests/s3/s3server.py), with a bucket."""
    sys.path.insert(0, str(REPO / "tests" / "s3"))
    import s3server
    server = s3server.start()
    server.client().create_bucket(Bucket=S3_BUCKET)
    return server


S3_CEILING_PARALLEL = 4


def s3_server_ceiling(server) -> float:
    """GiB/s the S3 server takes from curl: PUTs of lz4-v3-shard-sized
    objects (compressed at ratio ~2), S3_CEILING_PARALLEL in flight."""
    from s3_ceiling import ceiling
    shard = SCENARIOS["s3-v3"]
    shard_bytes = int(np.prod(shard.shards())) * 2 // 2
    gib = ceiling(server.endpoint, S3_BUCKET, server.access_key_id, server.secret_access_key,
                  shard_bytes, objects=8, parallel=S3_CEILING_PARALLEL)
    delete_prefix(server, "ceiling/")
    return gib


def delete_prefix(server, prefix: str) -> None:
    client = server.client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=S3_BUCKET, Delete={"Objects": keys})
    for upload in client.list_multipart_uploads(Bucket=S3_BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=S3_BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])


def run_writer(python: Path, writer: str, scenario: str, frames: int, data_dir: Path, timeout: int,
               s3=None) -> dict:
    cmd = [str(python), str(HERE / "writer.py"), "--writer", writer, "--scenario", scenario,
           "--frames", str(frames), "--out", str(data_dir)]
    env = dict(os.environ)
    # numpy's OpenBLAS threads are of no use to any writer and can spin on
    # the two cores the writers share; the same for every writer.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    if s3 is not None:
        env.update(s3.env(), BENCH_S3_ENDPOINT=s3.endpoint, BENCH_S3_BUCKET=S3_BUCKET)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"writer": writer, "scenario": scenario, "status": f"timeout after {timeout} s"}
    finally:
        for p in data_dir.glob(f"{writer}-{scenario}.zarr"):
            shutil.rmtree(p, ignore_errors=True)
        if s3 is not None:
            delete_prefix(s3, f"{writer}-{scenario}.zarr/")
        # Let the filesystem finish freeing and writing back before the next
        # writer starts, so nobody pays for the previous run.
        os.sync()
        time.sleep(1)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"writer": writer, "scenario": scenario, "status": f"failed: {tail[0][:200]}"}
    return json.loads(lines[-1])


def median_of(runs: list[dict]) -> dict:
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        return {"status": runs[-1].get("status", "failed"), "runs": len(runs)}
    pick = sorted(ok, key=lambda r: r["gib_per_s"])[len(ok) // 2]
    return {
        "status": "ok" if len(ok) == len(runs) else f"{len(runs) - len(ok)} of {len(runs)} runs failed",
        "runs": len(runs),
        "gib_per_s": statistics.median(r["gib_per_s"] for r in ok),
        "gib_per_s_all": [round(r["gib_per_s"], 3) for r in ok],
        "p50_ms": statistics.median(r["latency_ms"]["p50"] for r in ok),
        "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in ok),
        "max_ms": statistics.median(r["latency_ms"]["max"] for r in ok),
        "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in ok),
        "setup_ms": statistics.median(r["setup_s"] for r in ok) * 1e3,
        "bytes_on_disk": pick["bytes_on_disk"],
        "frames": pick["frames"],
        "correct": all(r["correct"] for r in ok),
        "latencies_ms": pick["latencies_ms"],
    }


def table(results: dict, ceilings: dict) -> str:
    rows = [f"{'scenario':<9} {'writer':<13} {'GiB/s':>7} {'x best peer':>11} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8} {'RSS MiB':>8} {'ratio':>6} {'setup ms':>8}  check"]
    for sid, by_writer in results.items():
        peers = [v["gib_per_s"] for w, v in by_writer.items() if w != "ours" and "gib_per_s" in v]
        best = max(peers) if peers else None
        for writer, v in by_writer.items():
            if "gib_per_s" not in v:
                rows.append(f"{sid:<9} {writer:<13} {v['status']}")
                continue
            ratio = v["frames"] * 2048 * 2048 * 2 / max(v["bytes_on_disk"], 1)
            vs = f"{v['gib_per_s'] / best:.2f}" if best and writer == "ours" else ""
            rows.append(f"{sid:<9} {writer:<13} {v['gib_per_s']:7.3f} {vs:>11} {v['p50_ms']:8.1f} "
                        f"{v['p99_ms']:8.1f} {v['max_ms']:8.1f} {v['peak_rss_mib']:8.0f} {ratio:6.2f} "
                        f"{v['setup_ms']:8.0f}  "
                        f"{'ok' if v['correct'] else 'WRONG'}{'' if v['status'] == 'ok' else ' ' + v['status']}")
    rows.append("")
    each = "/".join(f"{d:.2f}" for d in ceilings["disk_gib_per_s_all"])
    rows.append(f"ceilings: disk {ceilings['disk_gib_per_s']:.2f} GiB/s (median of {each}, measured before each "
                f"repeat as the best of 1/2/4 O_DIRECT writers + fdatasync; "
                f"{ceilings.get('disk_buffered_gib_per_s', float('nan')):.2f} buffered), "
                f"memcpy {ceilings['memcpy_gib_per_s']:.1f} GiB/s, " +
                ", ".join(f"blosc-{c} {v.get('gib_per_s', float('nan')):.2f} GiB/s (ratio {v.get('ratio', float('nan')):.2f})"
                          for c, v in ceilings["codec"].items()))
    if "s3_gib_per_s" in ceilings:
        each = "/".join(f"{c:.3f}" for c in ceilings["s3_gib_per_s_all"])
        rows.append(f"S3 server (SeaweedFS on loopback): {ceilings['s3_gib_per_s']:.3f} GiB/s "
                    f"(median of {each}; curl, {S3_CEILING_PARALLEL} shard-sized PUTs in flight)")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 frames, one run: a smoke test")
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--writers", default=",".join(WRITERS))
    parser.add_argument("--dir", type=Path, default=HERE / ".data", help="where stores are written")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per writer run")
    args = parser.parse_args()
    frames = args.frames or (64 if args.quick else 256)
    repeat = args.repeat or (1 if args.quick else 3)
    scenarios = [s for s in args.scenarios.split(",") if s]
    writers = [w for w in args.writers.split(",") if w]
    args.dir.mkdir(parents=True, exist_ok=True)

    free = shutil.disk_usage(args.dir).free / 2**30
    if free < 8:
        print(f"only {free:.1f} GiB free under {args.dir}; the benchmark needs about 8", file=sys.stderr)
        return 1

    peers = peers_python()
    python_for = {"ours": Path(sys.executable)}
    python_for.update({w: peers for w in WRITERS if w != "ours"})
    versions = {"ours": package_version(Path(sys.executable), "acquire-zarr"),
                "acquire-zarr": package_version(peers, "acquire-zarr"),
                "tensorstore": package_version(peers, "tensorstore"),
                "zarr-python": package_version(peers, "zarr")}

    print("measuring ceilings ...", flush=True)
    disk = []  # measured again before every repeat: the disk drifts over an invocation
    ceilings = {"disk_buffered_gib_per_s": disk_bandwidth(args.dir, direct=False),
                "memcpy_gib_per_s": memcpy_bandwidth(),
                "codec": {c: codec_ceiling(peers, c) for c in ("lz4", "zstd")}}

    s3 = start_s3() if any(SCENARIOS[sid].s3 for sid in scenarios) else None
    s3_ceilings: list[float] = []
    raw: dict = {}
    try:
        for rep in range(repeat):
            disk.append(durable_disk_bandwidth(args.dir))
            print(f"[run {rep + 1}/{repeat}] disk ceiling {disk[-1]:.2f} GiB/s", flush=True)
            if s3 is not None:
                s3_ceilings.append(s3_server_ceiling(s3))
                print(f"[run {rep + 1}/{repeat}] S3 server ceiling {s3_ceilings[-1]:.3f} GiB/s",
                      flush=True)
            for sid in scenarios:
                for writer in writers:
                    n = min(frames, S3_MAX_FRAMES) if SCENARIOS[sid].s3 else frames
                    r = run_writer(python_for[writer], writer, sid, n, args.dir, args.timeout,
                                   s3 if SCENARIOS[sid].s3 else None)
                    raw.setdefault(sid, {}).setdefault(writer, []).append(r)
                    speed = f"{r['gib_per_s']:.3f} GiB/s" if "gib_per_s" in r else r.get("status")
                    print(f"[run {rep + 1}/{repeat}] {sid:<8} {writer:<13} {speed}", flush=True)
    finally:
        if s3 is not None:
            s3.stop()

    if s3_ceilings:
        ceilings["s3_gib_per_s"] = statistics.median(s3_ceilings)
        ceilings["s3_gib_per_s_all"] = [round(c, 3) for c in s3_ceilings]
    ceilings["disk_gib_per_s"] = statistics.median(disk)
    ceilings["disk_gib_per_s_all"] = [round(d, 3) for d in disk]
    results = {sid: {w: median_of(runs) for w, runs in by.items()} for sid, by in raw.items()}
    report = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "frames": frames, "repeat": repeat, "versions": versions, "ceilings": ceilings,
        "results": results,
    }
    print()
    print(table(results, ceilings))

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
    wrong = [f"{s}/{w}" for s, by in results.items() for w, v in by.items() if v.get("correct") is False]
    if wrong:
        print("WRONG DATA read back from:", ", ".join(wrong), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
