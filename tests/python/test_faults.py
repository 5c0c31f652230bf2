"""Real filesystem faults while streaming.

Each case runs the stream in a child process (so that a hang fails the test
through a timeout instead of blocking the suite, and a crash is seen as a
signal), injects a fault part-way, and asserts:

- the failure surfaces promptly as an exception from append() or close()
  (OSError or RuntimeError, API.md), with a message naming the store path
  and the cause;
- nothing hangs: every append/close returns within a few seconds and the
  child exits on its own;
- every frame acknowledged *and on disk* before the fault reads back
  correctly with zarr-python afterwards; where the reader cannot see them,
  the error message has to say which data is missing.

The child waits, before the fault, until the files holding the frames
appended so far are complete on disk: append() returns before the data is
written (the writes happen on worker threads), and the library has no flush
call besides close(), so "acknowledged" alone does not mean "written".

Mechanisms (probed at run time, each case skips only when its mechanism is
unavailable here, with the reason):
(a) RLIMIT_FSIZE in the child, SIGXFSZ ignored, so writes past the limit
    fail with EFBIG;
(b) the store becomes read-only: chmod a-w of the whole store (when the
    tests run as root, the child drops the capabilities that let root ignore
    permission bits), and a read-only bind remount of the store (what a
    filesystem remounted read-only after an error looks like);
(c) rm -rf of the store directory while streaming;
(d) a full disk: a small tmpfs mount (mount needs CAP_SYS_ADMIN).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from child_runner import (ChildRun, mounted_small_tmpfs, run_paused_child, scratch_dir,
                          try_mount, umount)

TIMEOUT = 120  # seconds for a whole child run; a hang fails the test
PROMPT = 10.0  # seconds any single append/close may take here
# Linux capabilities that let root ignore permission bits.
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
PR_CAPBSET_DROP = 24

# --------------------------------------------------------------------------
# The child: streams frames described by a JSON job, reports every event as
# a JSON line on stdout. Frame i is deterministic (see frame_values), so the
# parent can check what it reads back without receiving the data.

CHILD = textwrap.dedent(r'''
    import json, os, resource, signal, struct, sys, time
    import numpy as np
    import acquire_zarr as aqz

    job = json.loads(sys.argv[1])

    def emit(**event):
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    def kinds(e):
        # Every class the error is, e.g. StorageError, OSError, ZarrError, RuntimeError.
        return [c.__name__ for c in type(e).__mro__]

    def frame(i):
        h, w = job["height"], job["width"]
        if i < job["compressible_frames"]:
            return np.full((h, w), i + 1, dtype=np.uint16)
        rng = np.random.default_rng(1000 + i)
        return rng.integers(0, 65535, size=(h, w), dtype=np.uint16, endpoint=True)

    def frame_on_disk(i):
        """True when the file holding frame i (one frame per chunk/shard) is
        complete: v2 chunk written, v3 shard index written."""
        path = os.path.join(job["store"], *job["frame_key"].format(i=i).split("/"))
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return False
        if job["version"] == 2:
            return len(data) > 0 and (job["compressed"] or len(data) == job["frame_bytes"])
        if len(data) < 20:
            return False
        offset, nbytes = struct.unpack("<QQ", data[-20:-4])
        return offset != 2**64 - 1 and offset + nbytes + 20 == len(data)

    if job.get("fsize_limit"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (job["fsize_limit"], job["fsize_limit"]))

    dims = [aqz.Dimension(name=n, kind=getattr(aqz.DimensionType, k), array_size_px=s,
                          chunk_size_px=c, shard_size_chunks=sh)
            for n, k, s, c, sh in job["dims"]]
    compression = None
    if job["compressed"]:
        compression = aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1,
                                              codec=aqz.CompressionCodec.BLOSC_LZ4,
                                              level=1, shuffle=1)
    settings = aqz.StreamSettings(
        store_path=job["store"], dimensions=dims, data_type=aqz.DataType.UINT16,
        version=aqz.ZarrVersion.V2 if job["version"] == 2 else aqz.ZarrVersion.V3,
        compression=compression, max_threads=2, overwrite=True)

    try:
        stream = aqz.ZarrStream(settings)
    except Exception as e:
        emit(event="error", phase="create", type=type(e).__name__, message=str(e), types=kinds(e),
             frames=0, seconds=0.0)
        sys.exit(0)

    acked = 0
    failed = False
    # One append call per entry of job["calls"] (frames per call).
    i = 0
    for count in job["calls"]:
        if i == job["pause_at"]:
            deadline = time.monotonic() + 30
            while not all(frame_on_disk(k) for k in range(i)):
                if time.monotonic() > deadline:
                    emit(event="stuck", frames=acked)
                    sys.exit(3)
                time.sleep(0.01)
            emit(event="pause", frames=acked)
            while not os.path.exists(job["go_file"]):
                if time.monotonic() > deadline + 60:
                    emit(event="stuck", frames=acked)
                    sys.exit(3)
                time.sleep(0.01)
        block = np.stack([frame(k) for k in range(i, i + count)])
        t0 = time.monotonic()
        try:
            stream.append(block)
        except Exception as e:
            emit(event="error", phase="append", type=type(e).__name__, message=str(e), types=kinds(e),
                 frames=acked, index=i, count=count, seconds=time.monotonic() - t0)
            i += count
            failed = True
            if not job.get("keep_appending"):
                break
            continue
        i += count
        if not failed:
            acked += count
            emit(event="acked", frames=acked, seconds=time.monotonic() - t0)
        else:
            emit(event="accepted_after_error", index=i - count, count=count,
                 seconds=time.monotonic() - t0)

    t0 = time.monotonic()
    try:
        stream.close()
        emit(event="closed", frames=acked, seconds=time.monotonic() - t0)
    except Exception as e:
        emit(event="error", phase="close", type=type(e).__name__, message=str(e), types=kinds(e),
             frames=acked, seconds=time.monotonic() - t0)
''')


def frame_values(i: int, height: int, width: int, compressible: int) -> np.ndarray:
    if i < compressible:
        return np.full((height, width), i + 1, dtype=np.uint16)
    rng = np.random.default_rng(1000 + i)
    return rng.integers(0, 65535, size=(height, width), dtype=np.uint16, endpoint=True)


class Run(ChildRun):
    """What the child reported."""

    @property
    def errors(self) -> list[dict]:
        return self.of("error")

    @property
    def acked(self) -> int:
        return max([e["frames"] for e in self.events if "frames" in e] or [0])

    @property
    def maybe_accepted(self) -> int:
        """Frames the library may have taken: the acknowledged ones plus those
        of the first append that raised (it may have taken them before
        reporting an earlier background failure)."""
        failing = [e for e in self.events if e["event"] == "error" and e["phase"] == "append"]
        return self.acked + (failing[0]["count"] if failing else 0)

    @property
    def paused_at(self) -> int | None:
        for e in self.events:
            if e["event"] == "pause":
                return e["frames"]
        return None


def make_job(store: Path, *, version: int, frames: int, pause_at: int = -1,
             height: int = 64, width: int = 64, bounded: bool = False,
             compressed: bool = False, compressible_frames: int = 0,
             fsize_limit: int = 0, keep_appending: bool = False,
             calls: list[int] | None = None) -> dict:
    """One frame per chunk (v2) or per shard (v3), so that "frame i is on
    disk" is one complete file. `calls`: frames per append call (default one
    each)."""
    calls = calls or [1] * frames
    assert sum(calls) == frames
    t_size = frames if bounded else 0
    dims = [["t", "TIME", t_size, 1, 1], ["y", "SPACE", height, height, 1],
            ["x", "SPACE", width, width, 1]]
    frame_key = "0/{i}/0/0" if version == 2 else "0/c/{i}/0/0"
    return dict(store=str(store), version=version, frames=frames, pause_at=pause_at,
                height=height, width=width, dims=dims, compressed=compressed,
                compressible_frames=compressible_frames, fsize_limit=fsize_limit,
                frame_key=frame_key, frame_bytes=height * width * 2,
                go_file=str(store.parent / "go"), keep_appending=keep_appending,
                calls=calls)


def drop_dac_capabilities() -> None:
    """In the forked child before exec: remove the capabilities that bypass
    file permissions from the bounding set, so the exec'd root process obeys
    permission bits like any user."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap})")


def can_drop_dac_capabilities() -> tuple[bool, str]:
    result = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=drop_dac_capabilities,
                            capture_output=True, text=True)
    return result.returncode == 0, result.stderr.strip()


def run_child(job: dict, fault=None, obey_permissions: bool = False) -> Run:
    """Runs the child; if `fault` is given, calls it once the child has
    paused (all frames so far on disk), then lets the child go on. With
    `obey_permissions`, a root child loses the capabilities that bypass
    permission bits."""
    preexec = None
    if obey_permissions and os.geteuid() == 0:
        preexec = drop_dac_capabilities
    return Run(*run_paused_child(CHILD, job, timeout=TIMEOUT, fault=fault, preexec_fn=preexec))


def assert_prompt_and_clean_exit(run: Run) -> None:
    assert run.returncode == 0, "child crashed or got stuck:\n" + run.describe()
    slow = [e for e in run.events if e.get("seconds", 0) > PROMPT]
    assert not slow, f"calls took longer than {PROMPT} s:\n" + run.describe()


def assert_failure_reported(run: Run, store: Path, *causes: str) -> dict:
    """The first error is an OSError/RuntimeError naming a path in the store
    and one of the causes (strerror texts)."""
    assert run.errors, "the fault was not reported by append() or close():\n" + run.describe()
    error = run.errors[0]
    assert error["phase"] in ("append", "close"), run.describe()
    assert {"OSError", "RuntimeError"} & set(error["types"]), run.describe()
    assert str(store) in error["message"], "message does not name the store:\n" + run.describe()
    assert any(c in error["message"] for c in causes), \
        f"message does not name the cause ({causes}):\n" + run.describe()
    return error


def assert_surfaces_on_append_and_close(run: Run) -> None:
    """A failure of a background write is raised by a later append() (the
    child keeps appending) and again by close()."""
    phases = [e["phase"] for e in run.errors]
    assert "append" in phases, "no append() raised after the fault:\n" + run.describe()
    assert phases[-1] == "close", "close() did not raise after the fault:\n" + run.describe()


def assert_frames_read_back(store: Path, job: dict, frames: range) -> None:
    array = read_zarr_frames(store, frames)
    for k, i in enumerate(frames):
        want = frame_values(i, job["height"], job["width"], job["compressible_frames"])
        np.testing.assert_array_equal(array[k], want, err_msg=f"frame {i}")


def read_zarr_frames(store: Path, frames: range) -> np.ndarray:
    import zarr
    array = zarr.open_array(str(store / "0"), mode="r")
    assert array.shape[0] >= frames.stop, \
        f"the array's shape {array.shape} does not cover frames {frames.start}..{frames.stop - 1}"
    return array[frames.start:frames.stop]


def missing_data_named(message: str, version: int) -> bool:
    """Whether an error message tells the reader that the array metadata
    (and so the extent of what was written) could not be updated."""
    names = ("zarr.json",) if version == 3 else (".zarray",)
    return any(n in message for n in names)


@pytest.fixture
def workdir():
    yield from scratch_dir("az-faults-")


VERSIONS = pytest.mark.parametrize("version", [2, 3], ids=["v2", "v3"])


# ------------------------------------------------------------ (a) EFBIG

@VERSIONS
def test_file_size_limit_mid_stream_surfaces_and_keeps_written_frames(workdir, version):
    """Compressible frames fit under RLIMIT_FSIZE, random frames do not: the
    writes fail with EFBIG part-way through the stream."""
    store = workdir / "s.zarr"
    # Frames 6..11 go in one append call: the stream takes all six before a
    # background failure can be reported, so some are certainly lost.
    job = make_job(store, version=version, frames=24, compressed=True,
                   compressible_frames=6, fsize_limit=4096, keep_appending=True,
                   calls=[1] * 6 + [6] + [1] * 12)
    run = run_child(job)
    assert_prompt_and_clean_exit(run)
    assert_failure_reported(run, store, "File too large")
    assert_surfaces_on_append_and_close(run)
    # The six compressible frames were written (each well under the limit);
    # the final metadata is small too, so the reader sees them all.
    assert_frames_read_back(store, job, range(6))
    assert_no_silent_gaps(store, job, run)


# ------------------------------------------------------- (b) read-only store

def chmod_readonly(store: Path) -> None:
    subprocess.run(["chmod", "-R", "a-w", str(store)], check=True)


@VERSIONS
@pytest.mark.parametrize("bounded", [True, False], ids=["bounded", "unbounded"])
def test_store_made_read_only_by_chmod_surfaces_and_keeps_written_frames(workdir, version, bounded):
    """chmod -R a-w of the store mid-stream. Root ignores permission bits, so
    a root child runs without CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and
    CAP_FOWNER."""
    if os.geteuid() == 0:
        ok, why = can_drop_dac_capabilities()
        if not ok:
            pytest.skip(f"running as root and cannot drop CAP_DAC_OVERRIDE here: {why}")
    store = workdir / "s.zarr"
    job = make_job(store, version=version, frames=16, pause_at=4, bounded=bounded,
                   keep_appending=True)
    run = run_child(job, fault=lambda: chmod_readonly(store), obey_permissions=True)
    assert_fault_handled(run, store, job, version, "Permission denied")
    if not bounded:
        assert_no_silent_gaps(store, job, run)


def assert_fault_handled(run: Run, store: Path, job: dict, version: int, cause: str) -> None:
    """The checks every storage fault shares: the child exits promptly and
    cleanly, the failure names `cause` and the store, it surfaces on append
    and on close, and every acknowledged frame reads back."""
    assert_prompt_and_clean_exit(run)
    error = assert_failure_reported(run, store, cause)
    assert_surfaces_on_append_and_close(run)
    check_acknowledged_frames(store, job, run, error, version)


def check_acknowledged_frames(store: Path, job: dict, run: Run, error: dict, version: int):
    """Frames on disk before the fault must read back; if the reader cannot
    see them (the metadata still has the extent written at create), an error
    message must say so."""
    before = run.paused_at
    assert before is not None and before > 0, run.describe()
    try:
        assert_frames_read_back(store, job, range(before))
    except AssertionError as unreadable:
        messages = " | ".join(dict.fromkeys(e["message"] for e in run.errors))
        assert missing_data_named(messages, version), (
            f"frames 0..{before - 1} were on disk before the fault but a reader cannot "
            f"see them ({unreadable}), and no error says that the array metadata was "
            f"not updated. Errors: {messages}")


def ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 9] -> "3..5, 9"."""
    out = []
    for n in numbers:
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return ", ".join(f"{a}..{b}" if b > a else f"{a}" for a, b in out)


def names_object(messages: str, store: Path, key: str) -> bool:
    """Whether an error message names the object at `key` (or the directory
    that should have held it)."""
    path = f"{store}/{key}"
    return f"{path}'" in messages or f"{path.rsplit('/', 1)[0]}'" in messages


def assert_no_silent_gaps(store: Path, job: dict, run: Run) -> None:
    """Unbounded arrays: inside the extent a reader is shown, every frame the
    stream may have taken reads back as appended, unless an error message
    names its object. A lost frame must not pass for data (it would read as
    the fill value 0). (A bounded array shows its full shape from the start,
    so there a lost frame and a frame never appended look alike to a reader;
    only the error tells.)"""
    assert job["dims"][0][2] == 0, "for unbounded arrays only"
    import zarr
    array = zarr.open_array(str(store / "0"), mode="r")
    shown = array.shape[0]
    messages = " | ".join(dict.fromkeys(e["message"] for e in run.errors))
    silent = []
    for i in range(shown):
        want = frame_values(i, job["height"], job["width"], job["compressible_frames"])
        if not np.array_equal(array[i], want) and \
                not names_object(messages, store, job["frame_key"].format(i=i)):
            silent.append(i)
    assert not silent, (
        f"frames {ranges(silent)} are inside the extent a reader is shown ({shown} along 't'; the "
        f"stream may have taken {run.maybe_accepted}) but do not read back as appended (a "
        f"missing object reads as zeros), and no error names their objects "
        f"({job['frame_key'].format(i=silent[0])}, ...). Errors: {messages}")


@VERSIONS
def test_store_remounted_read_only_surfaces_and_keeps_written_frames(workdir, version):
    """The filesystem under the store turns read-only mid-stream (like ext4's
    errors=remount-ro): a bind mount of the store, remounted read-only."""
    store = workdir / "s.zarr"
    store.mkdir()
    ok, why = try_mount("--bind", str(store), str(store))
    if not ok:
        pytest.skip(f"bind mounts are not permitted here: {why}")
    try:
        job = make_job(store, version=version, frames=16, pause_at=4, bounded=True,
                       keep_appending=True)
        remounted = []

        def remount_ro():
            ok, why = try_mount("-o", "remount,bind,ro", str(store))
            remounted.append((ok, why))

        run = run_child(job, fault=remount_ro)
        if not remounted[0][0]:
            pytest.skip(f"read-only remount refused: {remounted[0][1]}")
        assert_fault_handled(run, store, job, version, "Read-only file system")
    finally:
        umount(store)


# ------------------------------------------------------------- (c) rm -rf

def remove_tree_while_written(path):
    """rm -rf of a directory that the stream's workers keep writing: a file
    listed by rmtree may be renamed into place before rmtree unlinks it
    (FileNotFoundError), or a new one may appear before rmtree removes its
    directory (ENOTEMPTY), so it goes again until the tree is gone."""
    for _ in range(100):
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            continue
        except OSError as e:
            if e.errno != errno.ENOTEMPTY:
                raise
    shutil.rmtree(path)


@VERSIONS
@pytest.mark.parametrize("after_frames", [0, 4], ids=["right-after-create", "mid-stream"])
def test_store_removed_while_streaming_surfaces_without_hanging(workdir, version, after_frames):
    """rm -rf of the store while streaming (right after create, or after four
    frames are on disk): what was written is gone, so nothing can be read
    back; the library must say so (an error naming the store) instead of
    reporting success."""
    store = workdir / "s.zarr"
    job = make_job(store, version=version, frames=10, pause_at=after_frames,
                   keep_appending=True)
    run = run_child(job, fault=lambda: remove_tree_while_written(store))
    assert_prompt_and_clean_exit(run)
    if not run.errors:
        files = sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()) \
            if store.exists() else []
        pytest.fail(f"the store was deleted after {run.paused_at} frame(s), yet every append() "
                    f"and close() succeeded; {store} now holds only {files[:6]}"
                    f"{' ...' if len(files) > 6 else ''} (the root group metadata is gone)\n"
                    + run.describe())
    assert_failure_reported(run, store, "No such file or directory", "removed")


# ----------------------------------------------------------- (d) disk full

@pytest.fixture
def small_tmpfs(workdir):
    yield from mounted_small_tmpfs(workdir, "RLIMIT_FSIZE covers the size case")


@VERSIONS
@pytest.mark.parametrize("bounded", [True, False], ids=["bounded", "unbounded"])
def test_disk_full_surfaces_and_keeps_written_frames(small_tmpfs, version, bounded):
    """An 8 MiB tmpfs and 12.5 MiB of uncompressed frames: ENOSPC part-way.
    Eight single-frame appends, then the other 92 frames in one append call:
    the stream takes them all while the disk fills up around frame 60."""
    store = small_tmpfs / "s.zarr"
    job = make_job(store, version=version, frames=100, height=256, width=256,
                   bounded=bounded, pause_at=8, keep_appending=True, calls=[1] * 8 + [92])
    run = run_child(job, fault=lambda: None)
    assert_fault_handled(run, store, job, version, "No space left on device")
    if not bounded:
        assert_no_silent_gaps(store, job, run)
