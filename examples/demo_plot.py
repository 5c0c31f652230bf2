"""The picture examples/demo.py draws beside its store: what the store holds,
read back with zarr-python (one frame of level 0 beside the same frame at
every pyramid level, each labelled with its array's shape and dtype), and how
the run went (throughput and append latency over time).

Matplotlib with the Agg backend: no display needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RunTimings:
    """Per-append timings of one stream, in seconds from the first append's start."""

    frame_bytes: int
    append_ends: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    close_seconds: float = 0.0

    def record(self, started: float, t0: float, t1: float) -> None:
        self.append_ends.append(t1 - started)
        self.latencies.append(t1 - t0)


def throughput_series(timings: RunTimings, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """GiB/s appended in each of `bins` equal time windows: (window starts, rates).

    An append counts in the window where it ended; the windows cover the run
    from its start to the last append's end.
    """
    ends = np.asarray(timings.append_ends)
    edges = np.linspace(0.0, float(ends[-1]), bins + 1)
    counts, _ = np.histogram(ends, bins=edges)
    width = max(edges[1] - edges[0], 1e-9)
    return edges, counts * timings.frame_bytes / width / 2**30


def _draw_levels(subfig, group, t: int, c: int) -> None:
    levels = [d["path"] for d in group.attrs["ome"]["multiscales"][0]["datasets"]]
    axes = np.atleast_1d(subfig.subplots(1, len(levels)))
    frame0 = np.asarray(group[levels[0]][t, c])
    # One display range for every level (from level 0), so the levels are
    # comparable: a mean pyramid keeps the brightness.
    vmin, vmax = np.percentile(frame0, [0.5, 99.8])
    for ax, path in zip(axes, levels):
        array = group[path]
        plane = frame0 if path == levels[0] else np.asarray(array[t, c])
        ax.imshow(plane, cmap="magma", vmin=vmin, vmax=vmax, interpolation="nearest")
        shape = " x ".join(str(s) for s in array.shape)
        ax.set_title(f"level {path}: {shape}\n{array.dtype}", fontsize=10)
        ax.tick_params(labelsize=7)
    subfig.suptitle(f"read back from the store: t={t}, c={c} at every level (zarr-python)", fontsize=11)


def _draw_timings(subfig, timings: RunTimings) -> None:
    rate_ax, latency_ax = subfig.subplots(1, 2)
    ends = np.asarray(timings.append_ends)
    latencies_ms = np.asarray(timings.latencies) * 1e3
    bins = max(1, min(60, len(ends) // 4))
    edges, rates = throughput_series(timings, bins)
    rate_ax.stairs(rates, edges, fill=True, alpha=0.5, color="tab:blue", label=f"per {edges[1]:.2g} s window")
    so_far = np.arange(1, len(ends) + 1) * timings.frame_bytes / np.maximum(ends, 1e-9) / 2**30
    rate_ax.plot(ends, so_far, color="tab:red", label=f"average so far (end: {so_far[-1]:.2f} GiB/s)")
    rate_ax.set_xlabel("time since the first append (s)")
    rate_ax.set_ylabel("appended (GiB/s)")
    rate_ax.set_title("throughput over time", fontsize=10)
    rate_ax.legend(fontsize=8, loc="best")

    latency_ax.plot(ends, latencies_ms, ".", markersize=3, color="tab:blue", label="one append")
    for q, style in ((50, ":"), (99, "--")):
        value = np.percentile(latencies_ms, q)
        latency_ax.axhline(value, color="tab:red", linestyle=style, label=f"p{q} {value:.2f} ms")
    latency_ax.set_yscale("log")
    latency_ax.set_xlabel("time since the first append (s)")
    latency_ax.set_ylabel("append latency (ms)")
    latency_ax.set_title(f"append latency (then a {timings.close_seconds:.2f} s close)", fontsize=10)
    latency_ax.legend(fontsize=8, loc="best")  # not over the last appends


def draw(png_path: str, group, timings: RunTimings, title: str, t: int, c: int = 0) -> None:
    """Write the picture of `group` (an OME-Zarr image group) and `timings` to png_path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(14, 9), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.15, 1])
    _draw_levels(top, group, t, c)
    _draw_timings(bottom, timings)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
