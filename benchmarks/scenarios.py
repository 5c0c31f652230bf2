"""The benchmark scenarios of shared/BENCHMARKS.md and the synthetic data.

Shared by the driver (run.py) and the per-writer processes (writer.py); it
only needs numpy, so it imports in every virtual environment."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HEIGHT = WIDTH = 2048  # the full-size scenarios' frames
POOL = 8  # distinct frames, cycled so data generation is not timed
CAMERA_BUFFER_BYTES = 16 << 20  # a camera's frame buffer: max(2 frames, 16 MiB)


@dataclass(frozen=True)
class Scenario:
    id: str
    version: int  # 2 or 3
    codec: str | None  # None, "lz4", "zstd"
    data: str  # "random" or "microscopy"
    multiscale: bool = False
    s3: bool = False  # to the local S3 server (moto) instead of the disk
    arrays: int = 1  # arrays in one stream (stage positions), appended round-robin
    # (name, kind, size, chunk, shard); size 0 = unbounded append dimension
    dims: tuple = field(default=())
    dtype: str = "uint16"
    frames: int = 256  # a throughput run's default frame count
    small: bool = False  # small frames: per-append overhead measured too

    @property
    def height(self) -> int:
        return self.dims[-2][2]

    @property
    def width(self) -> int:
        return self.dims[-1][2]

    @property
    def frame_bytes(self) -> int:
        return self.height * self.width * np.dtype(self.dtype).itemsize

    @property
    def buffer_frames(self) -> int:
        """Frames the camera's buffer holds: max(2 frames, 16 MiB)."""
        return max(2, CAMERA_BUFFER_BYTES // self.frame_bytes)

    @property
    def outer_sizes(self) -> list[int]:
        return [d[2] for d in self.dims[1:-2]]

    @property
    def frames_per_append(self) -> int:
        return int(np.prod(self.outer_sizes, dtype=np.int64)) if self.outer_sizes else 1

    @property
    def batch_frames(self) -> int:
        """Frames per append-chunk: what chunk-oriented peers write at once."""
        return self.dims[0][3] * self.frames_per_append

    @property
    def frame_multiple(self) -> int:
        """A run's frame count (all arrays together) is a multiple of this:
        whole append-chunks for one array; whole rounds of the round-robin
        for several (the last append-chunk of each may then be partial)."""
        return self.arrays if self.arrays > 1 else self.batch_frames

    def shape(self, frames: int) -> tuple[int, ...]:
        """Shape of one array after `frames` frames (all arrays together)."""
        return (frames // self.arrays // self.frames_per_append, *self.outer_sizes, self.height, self.width)

    def keys(self) -> list[str]:
        """Output keys: "0" for one array, "pos0".."posN" for stage positions."""
        return ["0"] if self.arrays == 1 else [f"pos{a}" for a in range(self.arrays)]

    @staticmethod
    def pool_index(array: int, frame: int) -> int:
        """Which pool frame is frame `frame` of array `array`. Arrays start at
        different pool frames, so at every time point each array holds other
        pixels than the rest: a frame appended to the wrong array reads back
        wrong."""
        return (frame + array) % POOL

    def chunks(self) -> tuple[int, ...]:
        return tuple(d[3] for d in self.dims)

    def shards(self) -> tuple[int, ...]:
        return tuple(d[3] * d[4] for d in self.dims)


TYX = (("t", "time", 0, 32, 1), ("y", "space", HEIGHT, 256, 8), ("x", "space", WIDTH, 256, 8))
TCZYX = (("t", "time", 0, 1, 1), ("c", "channel", 3, 1, 1), ("z", "space", 16, 4, 4),
         ("y", "space", HEIGHT, 128, 16), ("x", "space", WIDTH, 128, 16))
SMALL = (("t", "time", 0, 64, 1), ("y", "space", 512, 128, 4), ("x", "space", 512, 128, 4))
TINY = (("t", "time", 0, 256, 1), ("y", "space", 128, 128, 1), ("x", "space", 128, 128, 1))

SCENARIOS = {s.id: s for s in [
    Scenario("raw-v3", 3, None, "random", dims=TYX),
    Scenario("lz4-v3", 3, "lz4", "microscopy", dims=TYX),
    Scenario("zstd-v3", 3, "zstd", "microscopy", dims=TYX),
    Scenario("ms-v3", 3, "lz4", "microscopy", multiscale=True, dims=TYX),
    Scenario("raw-v2", 2, None, "random", dims=TYX),
    Scenario("5d-v3", 3, "lz4", "microscopy", dims=TCZYX),
    Scenario("s3-v3", 3, "lz4", "microscopy", s3=True, dims=TYX),
    Scenario("multi-v3", 3, "lz4", "microscopy", arrays=4, dims=TYX),
    Scenario("small-512", 3, "lz4", "microscopy", dims=SMALL, frames=20_000, small=True),
    Scenario("tiny-128", 3, None, "random", dims=TINY, dtype="uint8", frames=20_000, small=True),
]}


def frame_pool(kind: str, seed: int = 1, height: int = HEIGHT, width: int = WIDTH,
               dtype: str = "uint16") -> list[np.ndarray]:
    """POOL frames: uniform random, or microscopy-like (smooth blobs over a
    background, with Poisson noise; blob sizes scale with the frame)."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    if kind == "random":
        return [rng.integers(0, top + 1, (height, width), dtype=dtype) for _ in range(POOL)]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    scale = max(height, width) / 2048
    frames = []
    for _ in range(POOL):
        signal = np.full((height, width), 120.0, dtype=np.float32)
        for _ in range(10):
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            r = rng.uniform(30, 150) * scale
            signal += rng.uniform(400, 2500) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        frames.append(np.minimum(rng.poisson(signal), top).astype(dtype))
    return frames


def scenario_pool(s: Scenario) -> list[np.ndarray]:
    """The frames a scenario cycles through."""
    return frame_pool(s.data, height=s.height, width=s.width, dtype=s.dtype)
