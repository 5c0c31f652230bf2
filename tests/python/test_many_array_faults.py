"""Faults while 16 arrays stream at once (the current API, appends
interleaved in a random order): a full disk, and one array's directory
removed under the stream.

As in test_faults.py, the stream runs in a child process (child_runner.py:
a hang fails the test through a timeout, a crash shows as a signal); the
child pauses once the frames appended so far are complete on disk, the
parent injects the fault, and the child goes on. Frame i of array a is
deterministic (frame_values), so the parent checks what it reads back, with
zarr-python and TensorStore, without receiving the data.

What the stream does after one array fails (docs/reliability.md, "Streams of
several arrays and plates"): that array refuses every later append with its
error; the other arrays keep taking appends and writing them; close raises,
naming the failure, and says for every array what it keeps.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorstore as ts
import zarr

from child_runner import ChildRun, mounted_small_tmpfs, run_paused_child, scratch_dir

TIMEOUT = 180  # seconds for a whole child run; a hang fails the test
PROMPT = 10.0  # seconds any single append or close may take
N_ARRAYS = 16
H, W = 64, 64
VERSIONS = pytest.mark.parametrize("version", [2, 3], ids=["v2", "v3"])

CHILD = textwrap.dedent(r'''
    import json, os, struct, sys, time
    import numpy as np
    import acquire_zarr as aqz

    job = json.loads(sys.argv[1])
    keys, H, W = job["keys"], job["height"], job["width"]

    def emit(**event):
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    def frame(a, i):
        rng = np.random.default_rng(a * 100003 + i)
        return rng.integers(0, 65536, size=(H, W), dtype=np.uint16)

    def on_disk(key, i):
        """The file holding frame i of `key` (one frame per chunk or shard) is
        complete: the v2 chunk has every byte, the v3 shard its index."""
        sub = f"{i}/0/0" if job["version"] == 2 else f"c/{i}/0/0"
        try:
            with open(os.path.join(job["store"], key, *sub.split("/")), "rb") as f:
                data = f.read()
        except OSError:
            return False
        if job["version"] == 2:
            return len(data) == H * W * 2
        if len(data) < 20:
            return False
        offset, nbytes = struct.unpack("<QQ", data[-20:-4])
        return offset != 2**64 - 1 and offset + nbytes + 20 == len(data)

    def dim(name, kind, size, chunk):
        return aqz.Dimension(name=name, kind=kind, array_size_px=size, chunk_size_px=chunk,
                             shard_size_chunks=1)

    arrays = [aqz.ArraySettings(output_key=k, data_type=np.uint16,
                                dimensions=[dim("t", aqz.DimensionType.TIME, 0, 1),
                                            dim("y", aqz.DimensionType.SPACE, H, H),
                                            dim("x", aqz.DimensionType.SPACE, W, W)])
              for k in keys]
    settings = aqz.StreamSettings(
        store_path=job["store"], arrays=arrays, max_threads=2, overwrite=True,
        version=aqz.ZarrVersion.V2 if job["version"] == 2 else aqz.ZarrVersion.V3)
    stream = aqz.ZarrStream(settings)

    acked = {k: 0 for k in keys}  # frames whose append returned normally
    failed = {}                   # key -> the first error its append raised
    order = np.random.default_rng(7)
    for i in range(job["frames"]):
        if i == job["pause_at"]:
            deadline = time.monotonic() + 60
            while not all(on_disk(k, f) for k in keys for f in range(i)):
                if time.monotonic() > deadline:
                    emit(event="stuck")
                    sys.exit(3)
                time.sleep(0.01)
            emit(event="pause", frames=i)
            while not os.path.exists(job["go_file"]):
                if time.monotonic() > deadline + 60:
                    emit(event="stuck")
                    sys.exit(3)
                time.sleep(0.01)
        for a in order.permutation(len(keys)):
            key = keys[a]
            t0 = time.monotonic()
            try:
                stream.append(frame(a, i), key=key)
            except Exception as e:
                seconds = time.monotonic() - t0
                if key not in failed:
                    failed[key] = str(e)
                    emit(event="append_error", key=key, index=i, message=str(e),
                         type=type(e).__name__, seconds=seconds)
                elif str(e) != failed[key]:
                    emit(event="changed_error", key=key, index=i, message=str(e))
                continue
            seconds = time.monotonic() - t0
            if seconds > job["prompt"]:
                emit(event="slow", key=key, index=i, seconds=seconds)
            if key in failed:
                emit(event="accepted_after_error", key=key, index=i)
            else:
                acked[key] = i + 1
    emit(event="acked", acked=acked)
    t0 = time.monotonic()
    try:
        stream.close()
        emit(event="closed", seconds=time.monotonic() - t0)
    except Exception as e:
        emit(event="close_error", message=str(e), type=type(e).__name__,
             seconds=time.monotonic() - t0)
''')


def frame_values(a: int, i: int) -> np.ndarray:
    rng = np.random.default_rng(a * 100003 + i)
    return rng.integers(0, 65536, size=(H, W), dtype=np.uint16)


class Run(ChildRun):
    @property
    def acked(self) -> dict[str, int]:
        return self.of("acked")[0]["acked"]

    @property
    def append_errors(self) -> dict[str, dict]:
        return {e["key"]: e for e in self.of("append_error")}

    @property
    def close_error(self) -> str | None:
        errors = self.of("close_error")
        return errors[0]["message"] if errors else None


def run_child(job: dict, fault) -> Run:
    """Runs the child; calls `fault` once it paused, then lets it go on."""
    run = Run(*run_paused_child(CHILD, job, timeout=TIMEOUT, fault=fault))
    assert run.returncode == 0 and run.of("pause"), "child crashed or got stuck:\n" + run.describe()
    return run


def make_job(store: Path, version: int, frames: int, pause_at: int) -> dict:
    return dict(store=str(store), version=version, frames=frames, pause_at=pause_at,
                keys=[f"a{n:02d}" for n in range(N_ARRAYS)], height=H, width=W,
                go_file=str(store.parent / "go"), prompt=PROMPT)


def read_both(node: Path, version: int) -> np.ndarray:
    """The array read by zarr-python and by TensorStore, which must agree."""
    a = zarr.open_array(str(node), mode="r")[...]
    spec = {"driver": "zarr" if version == 2 else "zarr3",
            "kvstore": {"driver": "file", "path": str(node)}}
    b = ts.open(spec, open=True, read=True).result().read().result()
    np.testing.assert_array_equal(a, b, err_msg=str(node))
    return a


KEEPS = re.compile(r"'([^']+)' keeps (?:all (\d+)|the first (\d+) of the (\d+)) 't' indices")


def kept_per_array(message: str, store: Path) -> dict[str, int]:
    """What close says each array keeps: {key: frames}."""
    kept = {}
    for path, all_n, first_n, _ in KEEPS.findall(message):
        kept[str(Path(path).relative_to(store))] = int(all_n or first_n)
    return kept


def assert_prompt(run: Run) -> None:
    slow = [e for e in run.events if e.get("seconds", 0) > PROMPT] + run.of("slow")
    assert not slow, f"calls took longer than {PROMPT} s:\n" + run.describe()


def assert_reads_back(store: Path, key: str, version: int, frames: int) -> None:
    got = read_both(store / key, version)
    assert got.shape == (frames, H, W), f"{key}: {got.shape}, expected {frames} frames"
    a = int(key[1:])
    for i in range(frames):
        np.testing.assert_array_equal(got[i], frame_values(a, i), err_msg=f"{key} frame {i}")


@pytest.fixture
def workdir():
    yield from scratch_dir("az-many-faults-")


@pytest.fixture
def small_tmpfs(workdir):
    yield from mounted_small_tmpfs(workdir, "test_faults.py covers a full disk by RLIMIT_FSIZE")


@VERSIONS
def test_disk_full_under_16_arrays_says_what_each_keeps_and_it_reads_back(small_tmpfs, version):
    """16 arrays of 64x64 uint16 frames (8 KiB, one per file), 100 frames
    each, on an 8 MiB tmpfs: the disk fills about 60 frames in. Every array
    appends until its own append raises. Close raises naming the cause, and
    says for each of the 16 arrays how many frames it keeps; each array's
    metadata shows exactly that many, they read back as appended, and none
    keeps fewer than the frames on disk before the child went on."""
    store = small_tmpfs / "s.zarr"
    job = make_job(store, version, frames=100, pause_at=8)
    run = run_child(job, fault=lambda: None)
    assert_prompt(run)
    assert not run.of("accepted_after_error"), \
        "an array took appends after its own failure:\n" + run.describe()
    assert not run.of("changed_error"), run.describe()
    message = run.close_error
    assert message is not None, "close succeeded on a full disk:\n" + run.describe()
    assert "No space left on device" in message, run.describe()
    for key, error in run.append_errors.items():
        assert "No space left on device" in error["message"], run.describe()
        assert error["type"] in ("OSError", "StorageError") or "Error" in error["type"]

    kept = kept_per_array(message, store)
    assert sorted(kept) == sorted(job["keys"]), \
        f"close does not say what every array keeps:\n{message}"
    acked = run.acked
    for key in job["keys"]:
        # An append that raised may have taken its frame before reporting.
        assert job["pause_at"] <= kept[key] <= acked[key] + 1, \
            f"{key} keeps {kept[key]}, acknowledged {acked[key]}:\n{message}"
        assert_reads_back(store, key, version, kept[key])


@VERSIONS
def test_one_removed_array_fails_alone_and_the_other_15_read_back_whole(workdir, version):
    """rm -rf of one array's directory after 4 frames of each are on disk:
    that array's appends raise, naming its directory, from the first write
    that finds it gone, and keep raising; the 15 others take all 40 frames
    without an error and read back whole. Close raises naming the removed
    array and says the others keep all 40; the removed array stays removed."""
    store = workdir / "s.zarr"
    job = make_job(store, version, frames=40, pause_at=4)
    victim = job["keys"][5]
    node = store / victim

    def remove_array():
        # Files may appear while rmtree runs (writes in flight): again.
        for _ in range(100):
            try:
                shutil.rmtree(node)
                return
            except FileNotFoundError:
                continue
            except OSError:
                continue
        shutil.rmtree(node)

    run = run_child(job, fault=remove_array)
    assert_prompt(run)
    others = [k for k in job["keys"] if k != victim]
    named = f"the directory '{node}' was removed"

    errors = run.append_errors
    assert set(errors) <= {victim}, "arrays whose storage is healthy refused appends:\n" \
        + run.describe()
    assert not run.of("accepted_after_error"), run.describe()
    assert not run.of("changed_error"), run.describe()
    if victim in errors:
        assert named in errors[victim]["message"], run.describe()
    message = run.close_error
    assert message is not None, "close succeeded though an array was removed:\n" \
        + run.describe()
    assert named in message, run.describe()
    kept = kept_per_array(message, store)
    for key in others:
        assert run.acked[key] == job["frames"], run.describe()
        assert kept.get(key) == job["frames"], f"{key} keeps {kept.get(key)}:\n{message}"
        assert_reads_back(store, key, version, job["frames"])
    assert not node.exists(), f"the removed array was recreated: {sorted(node.rglob('*'))[:5]}"
    # The root group still lists what a reader can open.
    group = zarr.open_group(str(store), mode="r")
    for key in others:
        assert key in group, key
