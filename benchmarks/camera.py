"""A camera model for the sustained-rate figure (shared/BENCHMARKS.md): the
camera produces frame i at t0 + i / rate into a buffer of max(2 frames,
16 MiB); the writer takes frames as fast as it can; a frame is dropped when
the buffer is full as it arrives, i.e. when frame i is still held at the
moment frame i + buffer_frames is due.

The camera is not a thread: the writer's loop asks `due(i)` (sleeping while
it is ahead of the camera) and reports `taken(i)` once the frame has left the
buffer (the append returned, or the frame was copied into the writer's own
chunk buffer). The model is exact for a single consumer and costs the
writer's cores nothing.
"""

from __future__ import annotations

import time

# Sleeping wakes up late by tens of microseconds; a writer less than this
# far ahead of the camera takes the frame at once instead (it is in the
# buffer a moment early, which only makes the test stricter).
SLEEP_FLOOR_S = 200e-6


class Camera:
    def __init__(self, rate: float, buffer_frames: int):
        """rate in frames/s; 0 means unpaced (every frame is due at once,
        nothing is ever dropped): the tight loop."""
        self.period = 1.0 / rate if rate > 0 else 0.0
        self.buffer_frames = buffer_frames
        self.t0 = 0.0
        self.dropped_at: int | None = None
        self.max_late_s = 0.0

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def due(self, i: int) -> None:
        """Returns once frame i exists."""
        wait = self.t0 + i * self.period - time.perf_counter()
        if wait > SLEEP_FLOOR_S:
            time.sleep(wait)

    def taken(self, i: int) -> bool:
        """Frame i has left the buffer; False once a frame was dropped."""
        late = time.perf_counter() - (self.t0 + i * self.period)
        if late > self.max_late_s:
            self.max_late_s = late
        if self.period and late > self.buffer_frames * self.period and self.dropped_at is None:
            # frame i + buffer_frames arrived while frame i still held its slot
            self.dropped_at = i + self.buffer_frames
        return self.dropped_at is None

    def result(self, frames_taken: int) -> dict:
        return {"passed": self.dropped_at is None, "dropped_at": self.dropped_at,
                "frames_taken": frames_taken, "buffer_frames": self.buffer_frames,
                "max_late_ms": self.max_late_s * 1e3,
                "allowed_late_ms": self.buffer_frames * self.period * 1e3}
