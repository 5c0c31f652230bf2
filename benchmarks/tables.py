"""The terminal tables of run.py, one per figure, from the report it writes
(results/latest.json); `python tables.py results/latest.json` prints them
again."""

from __future__ import annotations

import json
import sys


def best_peer(by_writer: dict, key: str, higher_is_better: bool = True):
    values = [v[key] for w, v in by_writer.items() if w != "ours" and v.get(key) is not None]
    if not values:
        return None
    return max(values) if higher_is_better else min(values)


def throughput_table(results: dict, scenarios: dict) -> str:
    rows = [f"{'scenario':<9} {'writer':<13} {'GiB/s':>7} {'x best peer':>11} {'frames/s':>9} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8} {'RSS MiB':>8} {'ratio':>6} {'setup ms':>8}  check"]
    for sid, by_writer in results.items():
        best = best_peer(by_writer, "gib_per_s")
        for writer, v in by_writer.items():
            if "gib_per_s" not in v:
                rows.append(f"{sid:<9} {writer:<13} {v['status']}")
                continue
            ratio = v["frames"] * scenarios[sid]["frame_bytes"] / max(v["bytes_on_disk"], 1)
            vs = f"{v['gib_per_s'] / best:.2f}" if best and writer == "ours" else ""
            rows.append(f"{sid:<9} {writer:<13} {v['gib_per_s']:7.3f} {vs:>11} {v['frames_per_s']:9.0f} "
                        f"{v['p50_ms']:8.2f} {v['p99_ms']:8.1f} {v['max_ms']:8.1f} {v['peak_rss_mib']:8.0f} "
                        f"{ratio:6.2f} {v['setup_ms']:8.0f}  "
                        f"{'ok' if v['correct'] else 'WRONG'}{'' if v['status'] == 'ok' else ' ' + v['status']}")
    return "\n".join(rows)


def cpu_table(results: dict) -> str:
    rows = ["CPU seconds (user + sys, all threads) per GiB of raw input, from the first call (or the "
            "store's creation) to the end of a durable close",
            f"{'scenario':<9} {'writer':<13} {'CPU s/GiB':>9} {'of best peer':>12} {'setup CPU s':>11}"]
    for sid, by_writer in results.items():
        best = best_peer(by_writer, "cpu_s_per_gib", higher_is_better=False)
        for writer, v in by_writer.items():
            if "cpu_s_per_gib" not in v:
                continue
            vs = f"{v['cpu_s_per_gib'] / best:.0%}" if best and writer == "ours" else ""
            rows.append(f"{sid:<9} {writer:<13} {v['cpu_s_per_gib']:9.2f} {vs:>12} {v['cpu_setup_s']:11.3f}")
    return "\n".join(rows)


def sustained_table(sustained: dict) -> str:
    rows = ["Sustained frame rate: the highest offered rate at which a camera buffer of max(2 frames, "
            "16 MiB) never overflowed",
            f"{'scenario':<9} {'writer':<13} {'frames/s':>9} {'GiB/s':>7} {'x best peer':>11} "
            f"{'of tight loop':>13}  rates tried (+ passed, - dropped)"]
    for sid, by_writer in sustained.items():
        best = best_peer(by_writer, "rate_fps")
        for writer, v in by_writer.items():
            if v.get("rate_fps") is None:
                if v.get("status") == "ok":
                    tried = " ".join(f"-{rate:.0f}" for rate, _ in v["tried"])
                    rows.append(f"{sid:<9} {writer:<13} dropped frames at every rate tried: {tried}")
                else:
                    rows.append(f"{sid:<9} {writer:<13} {v.get('status')}")
                continue
            vs = f"{v['rate_fps'] / best:.2f}" if best and writer == "ours" else ""
            floor = ">=" if v.get("never_dropped") else "  "
            tried = " ".join(f"{'+' if ok else '-'}{rate:.0f}" for rate, ok in v["tried"])
            rows.append(f"{sid:<9} {writer:<13} {floor}{v['rate_fps']:7.0f} {v['gib_per_s']:7.3f} {vs:>11} "
                        f"{v['of_tight_loop']:13.0%}  {tried}")
    return "\n".join(rows)


def small_table(small: dict, results: dict) -> str:
    rows = ["Small frames: frames/s to the end of a durable close (the throughput runs; the overhead "
            "runs from C and from Python); microseconds per append (a tight loop timed as a whole)",
            f"{'scenario':<9} {'writer':<13} {'frames/s':>9} {'C fr/s':>8} {'C us':>7} {'Py fr/s':>8} "
            f"{'Py us':>7} {'Py - C us':>9}"]

    def cell(x, width: int, digits: int) -> str:
        return f"{x:{width}.{digits}f}" if x is not None else " " * width

    for sid, by_writer in small.items():
        for writer, v in by_writer.items():
            fps = results.get(sid, {}).get(writer, {}).get("frames_per_s")
            c, py = v.get("c_append_us"), v.get("python_append_us")
            cells = [cell(fps, 9, 0), cell(v.get("c_frames_per_s"), 8, 0), cell(c, 7, 2),
                     cell(v.get("python_frames_per_s"), 8, 0), cell(py, 7, 2),
                     cell(py - c if c is not None and py is not None else None, 9, 2)]
            status = f"  {v['status']}" if v.get("status") else ""
            rows.append(f"{sid:<9} {writer:<13} {' '.join(cells)}{status}")
    return "\n".join(rows)


def flat_table(flat: dict, factor: int) -> str:
    rows = [f"Ours at 1x and {factor}x the frames (one run each)",
            f"{'scenario':<9} {'frames':>13} {'GiB/s':>13} {'RSS MiB':>11} {'p99 ms':>11}"]
    for sid, v in flat.items():
        a, b = v["base"], v["long"]
        if "gib_per_s" not in a or "gib_per_s" not in b:
            rows.append(f"{sid:<9} {a.get('status')} / {b.get('status')}")
            continue
        rows.append(f"{sid:<9} {a['frames']:>6}/{b['frames']:<6} {a['gib_per_s']:6.3f}/{b['gib_per_s']:<6.3f} "
                    f"{a['peak_rss_mib']:5.0f}/{b['peak_rss_mib']:<5.0f} "
                    f"{a['latency_ms']['p99']:5.1f}/{b['latency_ms']['p99']:<5.1f}")
    return "\n".join(rows)


def ceilings_lines(ceilings: dict, s3_parallel: int) -> str:
    rows = []
    if "disk_gib_per_s" in ceilings:
        each = "/".join(f"{d:.2f}" for d in ceilings["disk_gib_per_s_all"])
        rows.append(f"ceilings: disk {ceilings['disk_gib_per_s']:.2f} GiB/s (median of {each}, measured before "
                    f"each repeat as the best of 1/2/4 O_DIRECT writers + fdatasync; "
                    f"{ceilings.get('disk_buffered_gib_per_s', float('nan')):.2f} buffered), "
                    f"memcpy {ceilings['memcpy_gib_per_s']:.1f} GiB/s, " +
                    ", ".join(f"blosc-{c} {v.get('gib_per_s', float('nan')):.2f} GiB/s "
                              f"(ratio {v.get('ratio', float('nan')):.2f})"
                              for c, v in ceilings["codec"].items()))
    if "s3_gib_per_s" in ceilings:
        each = "/".join(f"{c:.3f}" for c in ceilings["s3_gib_per_s_all"])
        rows.append(f"S3 server (SeaweedFS on loopback): {ceilings['s3_gib_per_s']:.3f} GiB/s "
                    f"(median of {each}; curl, {s3_parallel} shard-sized PUTs in flight)")
    return "\n".join(rows)


def all_tables(report: dict) -> str:
    parts = []
    if report.get("results"):
        parts.append(throughput_table(report["results"], report["scenarios"]))
        parts.append(cpu_table(report["results"]))
    if report.get("sustained"):
        parts.append(sustained_table(report["sustained"]))
    if report.get("small"):
        parts.append(small_table(report["small"], report.get("results", {})))
    if report.get("flat"):
        parts.append(flat_table(report["flat"], report.get("flat_factor", 4)))
    parts.append(ceilings_lines(report.get("ceilings", {}), report.get("s3_parallel", 4)))
    return "\n\n".join(p for p in parts if p)


if __name__ == "__main__":
    print(all_tables(json.load(open(sys.argv[1]))))
