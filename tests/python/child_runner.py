"""Runs a stream in a child process that pauses part-way, for the fault
tests (test_faults.py, test_many_array_faults.py).

The child is a test's own script, run with the job (a dict) as JSON in
argv[1]. It reports events as JSON lines on stdout; once the frames
appended so far are on disk it reports {"event": "pause", ...} and waits
until the file job["go_file"] exists. Meanwhile the parent injects the fault
into the paused stream. In a child, a hang fails the test through a timeout
instead of blocking the suite, and a crash shows as its exit status.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

import acquire_zarr as aqz

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = Path(aqz.__file__).resolve().parent.parent


class ChildRun:
    """What the child reported: its exit status, its events, its stderr."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode = returncode
        self.stderr = stderr
        self.events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["event"] == kind]

    def describe(self) -> str:
        # An event is cut short: a close error may list a hundred arrays.
        events = "\n  ".join(json.dumps(e)[:1000] for e in self.events)
        return f"exit {self.returncode}\nevents:\n  {events}\nstderr: {self.stderr[-3000:]}"


def child_env() -> dict:
    """The environment with the package under test, and this folder, first
    on the child's PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PACKAGE_ROOT), str(HERE)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def run_paused_child(script_text: str, job: dict, *, timeout: float,
                     fault: Optional[Callable[[], None]] = None,
                     preexec_fn: Optional[Callable[[], None]] = None) -> tuple[int, str, str]:
    """Runs `script_text` on `job` in the folder above job["store"]; if
    `fault` is given, calls it once the child has paused, then lets the
    child go on. Fails the test when the child runs longer than `timeout`
    seconds, or ends without pausing while a fault waits. Returns the exit
    status, stdout and stderr."""
    folder = Path(job["store"]).parent
    script = folder / "child.py"
    script.write_text(script_text)
    proc = subprocess.Popen([sys.executable, str(script), json.dumps(job)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=child_env(), cwd=str(folder), preexec_fn=preexec_fn)
    head = b""
    try:
        if fault is not None:
            # Raw reads with a deadline: the child may hang before pausing.
            deadline = time.monotonic() + timeout
            fd = proc.stdout.fileno()
            while b'"pause"' not in head:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise subprocess.TimeoutExpired(proc.args, timeout)
                chunk = os.read(fd, 65536)
                if not chunk:
                    break  # the child ended without pausing
                head += chunk
            if b'"pause"' not in head:
                out, err = proc.communicate(timeout=timeout)
                pytest.fail("child never paused:\n" + (head + out).decode(errors="replace")
                            + err.decode(errors="replace")[-3000:])
            fault()
            Path(job["go_file"]).touch()
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the stream hung (no exit within {timeout} s):\n"
                    f"{(head + out).decode(errors='replace')}\n"
                    f"{err.decode(errors='replace')[-3000:]}")
    return proc.returncode, (head + out).decode(errors="replace"), err.decode(errors="replace")


def scratch_dir(prefix: str) -> Iterator[Path]:
    """A directory outside pytest's tmp_path (which is private to the user
    running the tests), removed afterwards whatever state the fault left it
    in. For a fixture: `yield from scratch_dir(...)`."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(path, 0o755)
    yield path
    subprocess.run(["chmod", "-R", "u+rwX", str(path)], check=False, capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def try_mount(*args: str) -> tuple[bool, str]:
    """Runs mount with `args`: whether it mounted, and why not."""
    if shutil.which("mount") is None:
        return False, "no mount command"
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    return result.returncode == 0, result.stderr.strip()


def umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def mounted_small_tmpfs(workdir: Path, otherwise: str) -> Iterator[Path]:
    """An 8 MiB tmpfs mounted at workdir/small, unmounted afterwards; skips
    the test, naming `otherwise` (what covers the case instead), where no
    tmpfs can be mounted here. For a fixture: `yield from mounted_small_tmpfs(...)`."""
    mnt = workdir / "small"
    mnt.mkdir()
    ok, why = try_mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt))
    if not ok:
        pytest.skip(f"cannot mount a tmpfs here ({why}); {otherwise}")
    yield mnt
    umount(mnt)
