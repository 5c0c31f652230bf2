"""Draws results/latest.json: throughput per scenario per writer, and the
distribution of single-append latencies. Runs in the peers' environment."""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

report = json.load(open(sys.argv[1]))
results = report["results"]
scenarios = list(results)
writers = []
for by in results.values():
    for w in by:
        if w not in writers:
            writers.append(w)

fig, (bars, lat) = plt.subplots(1, 2, figsize=(15, 5.5))
width = 0.8 / len(writers)
for i, w in enumerate(writers):
    values = [results[s].get(w, {}).get("gib_per_s", 0.0) for s in scenarios]
    bars.bar(np.arange(len(scenarios)) + i * width, values, width, label=w)
bars.axhline(report["ceilings"]["disk_gib_per_s"], color="k", linestyle="--", linewidth=1,
             label="disk (write + fdatasync)")
bars.set_xticks(np.arange(len(scenarios)) + width * (len(writers) - 1) / 2)
bars.set_xticklabels(scenarios)
bars.set_ylabel("GiB/s of raw input (durable)")
bars.set_title(f"2048x2048 uint16, {report['frames']} frames, median of {report['repeat']}")
bars.legend(fontsize=8)

data, labels = [], []
for s in scenarios:
    for w in writers:
        v = results[s].get(w, {})
        if v.get("latencies_ms"):
            data.append(v["latencies_ms"])
            labels.append(f"{s}\n{w}")
if data:
    lat.boxplot(data, whis=(1, 99), showfliers=False)
    lat.set_xticks(range(1, len(labels) + 1))
    lat.set_xticklabels(labels, rotation=90, fontsize=6)
    lat.set_yscale("log")
    lat.set_ylabel("latency of one append/write call (ms), whiskers p1-p99")
    lat.set_title("append latency")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
