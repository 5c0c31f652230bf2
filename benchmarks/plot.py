"""Draws results/latest.json: per scenario and writer, throughput, the
sustained frame rate behind a camera and the CPU seconds per GiB side by
side, and the distribution of single-append latencies. Runs in the peers'
environment. A figure the report lacks (run.py --figures) is left out."""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

report = json.load(open(sys.argv[1]))
results = report.get("results", {})
sustained = report.get("sustained", {})
scenarios = list(dict.fromkeys([*results, *sustained]))
writers = []
for by in [*results.values(), *sustained.values()]:
    for w in by:
        if w not in writers:
            writers.append(w)


def bars(ax, values_of, ylabel: str, title: str, log: bool = False) -> None:
    """One group of bars per scenario, one bar per writer; a writer without
    the figure in a scenario gets no bar."""
    width = 0.8 / max(len(writers), 1)
    for i, w in enumerate(writers):
        values = [values_of(s, w) or 0.0 for s in scenarios]
        ax.bar(np.arange(len(scenarios)) + i * width, values, width, label=w)
    ax.set_xticks(np.arange(len(scenarios)) + width * (len(writers) - 1) / 2)
    ax.set_xticklabels(scenarios, rotation=30, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=7)


fig, ((tput, rate), (cpu, lat)) = plt.subplots(2, 2, figsize=(16, 10))
bars(tput, lambda s, w: results.get(s, {}).get(w, {}).get("gib_per_s"), "GiB/s of raw input (durable)",
     f"throughput, tight loop ({report['frames']} frames at 2048x2048, small-frame scenarios their own; "
     f"median of {report['repeat']})",
     log=True)
if "disk_gib_per_s" in report.get("ceilings", {}):
    tput.axhline(report["ceilings"]["disk_gib_per_s"], color="k", linestyle="--", linewidth=1,
                 label="disk (write + fdatasync)")
    tput.legend(fontsize=7)
bars(rate, lambda s, w: sustained.get(s, {}).get(w, {}).get("rate_fps"), "frames/s",
     "sustained frame rate: highest offered rate with no dropped frame "
     "(camera buffer max(2 frames, 16 MiB))", log=True)
bars(cpu, lambda s, w: results.get(s, {}).get(w, {}).get("cpu_s_per_gib"),
     "CPU seconds (user + sys) per GiB", "CPU cost of the throughput runs (lower is better)", log=True)

data, labels = [], []
for s in scenarios:
    for w in writers:
        v = results.get(s, {}).get(w, {})
        if v.get("latencies_ms"):
            data.append(v["latencies_ms"])
            labels.append(f"{s} {w}")
if data:
    lat.boxplot(data, whis=(1, 99), showfliers=False)
    lat.set_xticks(range(1, len(labels) + 1))
    lat.set_xticklabels(labels, rotation=90, fontsize=5)
    lat.set_yscale("log")
    lat.set_ylabel("latency of one append/write call (ms), whiskers p1-p99")
    lat.set_title("append latency", fontsize=10)
else:
    lat.axis("off")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
