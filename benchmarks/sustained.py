"""The writers' loops behind a camera (camera.py), and the tight loop of
appends timed as a whole (per-append overhead). Used by writer.py."""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from camera import Camera
from scenarios import POOL, Scenario

# Write futures TensorStore may have in flight per array: an acquisition
# loop hands a full append-chunk over and goes on filling the next, waiting
# only when two are still being written (it bounds its memory so).
TENSORSTORE_IN_FLIGHT = 2


def frame_of(s: Scenario, pool, i: int):
    """Frame i of a run (all arrays together, round-robin), as the
    throughput runs append it: (array, frame)."""
    a, f = i % s.arrays, i // s.arrays
    return a, pool[s.pool_index(a, f) if s.arrays > 1 else i % POOL]


def streaming(s: Scenario, frames: int, pool, camera: Camera, stream) -> dict:
    """One append per frame; a frame leaves the camera's buffer when its
    append returns. Stops at the first dropped frame."""
    keys = s.keys()
    taken = 0
    camera.start()
    for i in range(frames):
        camera.due(i)
        a, frame = frame_of(s, pool, i)
        if s.arrays > 1:
            stream.append(frame, key=keys[a])
        else:
            stream.append(frame)
        taken += 1
        if not camera.taken(i):
            break
    appended = time.perf_counter()
    stream.close()
    ended = time.perf_counter()
    return {**camera.result(taken), "append_s": appended - camera.t0, "close_s": ended - appended}


def tensorstore(s: Scenario, frames: int, pool, camera: Camera, arrays) -> dict:
    """TensorStore behind the camera: each frame is copied into its array's
    append-chunk buffer (it leaves the camera's buffer then); a full buffer
    is handed to TensorStore as one write, with at most
    TENSORSTORE_IN_FLIGHT writes per array in flight (a buffer is reused
    only once its write completed). Stops at the first dropped frame."""
    per = s.dims[0][3]  # append-dimension steps per append-chunk
    batch = s.batch_frames
    shape = (per, *s.outer_sizes, s.height, s.width)
    free = [deque(np.empty(shape, dtype=s.dtype) for _ in range(TENSORSTORE_IN_FLIGHT + 1))
            for _ in arrays]
    pending: list[deque] = [deque() for _ in arrays]
    filling = [free[a].popleft() for a in range(len(arrays))]
    filled = [0] * len(arrays)  # frames in the filling buffer
    steps_done = [0] * len(arrays)  # append-dimension steps handed over

    def hand_over(a: int) -> None:
        n = filled[a] // s.frames_per_append
        t = steps_done[a]
        if len(pending[a]) == TENSORSTORE_IN_FLIGHT:
            future, buffer = pending[a].popleft()
            future.result()
            free[a].append(buffer)
        pending[a].append((arrays[a][t:t + n].write(filling[a][:n]), filling[a]))
        steps_done[a] += n
        filling[a] = free[a].popleft()
        filled[a] = 0

    taken = 0
    camera.start()
    for i in range(frames):
        camera.due(i)
        a, frame = frame_of(s, pool, i)
        filling[a].reshape(batch, s.height, s.width)[filled[a]] = frame
        filled[a] += 1
        taken += 1
        if not camera.taken(i):
            break
        if filled[a] == batch:
            hand_over(a)
    appended = time.perf_counter()
    for a in range(len(arrays)):
        if filled[a] >= s.frames_per_append:
            hand_over(a)
        for future, _ in pending[a]:
            future.result()
    ended = time.perf_counter()
    return {**camera.result(taken), "append_s": appended - camera.t0, "close_s": ended - appended}


def overhead(s: Scenario, frames: int, pool, stream) -> dict:
    """The tight loop of appends timed as a whole, with no timer per call:
    microseconds per append, and frames/s to the end of close."""
    if s.arrays > 1:
        raise NotImplementedError("overhead is measured on one-array scenarios")
    append = stream.append
    t0 = time.perf_counter()
    for i in range(frames):
        append(pool[i & (POOL - 1)])
    t1 = time.perf_counter()
    stream.close()
    t2 = time.perf_counter()
    return {"append_us": (t1 - t0) / frames * 1e6, "frames_per_s": frames / (t2 - t0),
            "close_s": t2 - t1}
