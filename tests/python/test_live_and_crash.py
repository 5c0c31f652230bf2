"""Live stores and crash consistency.

While a stream runs, an unbounded array's metadata follows the data that is
complete in the store (v2: chunk rows, v3: shard rows along the append
dimension), so a reader sees the acquisition grow. A process killed with
SIGKILL at any point leaves a store whose metadata parses strictly and whose
array reads back, without repair, as a prefix of what was appended: the
unfinished tail may be missing, never corrupt."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

import acquire_zarr as aqz
from streamkit import blosc, dims, settings

VERSIONS = pytest.mark.parametrize("version", [aqz.ZarrVersion.V2, aqz.ZarrVersion.V3],
                                   ids=["v2", "v3"])


def frame(i: int, height: int, width: int) -> np.ndarray:
    """Frame i: cheap to make, different for every i and every pixel."""
    y = np.arange(height, dtype=np.uint32)[:, None]
    x = np.arange(width, dtype=np.uint32)[None, :]
    return ((y * 131 + x * 7 + i * 1009) % 65521).astype(np.uint16)


def strict_json(path: Path) -> dict:
    def refuse(token):
        raise ValueError(f"{path}: non-standard JSON constant {token}")
    text = path.read_text()
    assert text.endswith("\n") or text.endswith("}"), f"{path} looks truncated"
    return json.loads(text, parse_constant=refuse)


def metadata_extent(array_dir: Path, version) -> int:
    name = "zarr.json" if version == aqz.ZarrVersion.V3 else ".zarray"
    path = array_dir / name
    return strict_json(path)["shape"][0] if path.exists() else -1


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@VERSIONS
def test_metadata_follows_the_data_while_streaming(tmp_path, version):
    # t chunks of 2, shards of 2 chunks: v2 rows are 2 timepoints, v3 rows 4.
    d = dims(("t", 0, 2, 2), ("y", 48, 16, 2), ("x", 40, 16, 2))
    row = 2 if version == aqz.ZarrVersion.V2 else 4
    store = tmp_path / "live.zarr"
    stream = aqz.ZarrStream(settings(store, d, version=version, compression=blosc("lz4")))
    assert metadata_extent(store / "0", version) == 0  # an empty array at once
    seen = []
    for i in range(13):
        stream.append(frame(i, 48, 40))
        if (i + 1) % row == 0:
            # Every complete row becomes visible without closing the stream.
            assert wait_for(lambda: metadata_extent(store / "0", version) == i + 1), (
                i, metadata_extent(store / "0", version))
            seen.append(i + 1)
            data = zarr.open_array(str(store / "0"), mode="r")[...]
            assert data.shape == (i + 1, 48, 40)
            for j in range(i + 1):
                np.testing.assert_array_equal(data[j], frame(j, 48, 40))
    # The unfinished row is not shown before close.
    assert metadata_extent(store / "0", version) == seen[-1]
    stream.close()
    assert metadata_extent(store / "0", version) == 13
    assert seen == list(range(row, 13, row))


CHILD = textwrap.dedent("""
    import sys, numpy as np, acquire_zarr as aqz
    sys.path.insert(0, {tests!r})
    from test_live_and_crash import frame
    from streamkit import blosc, dims, settings
    d = dims(("t", 0, 2, 2), ("c", 2, 1, 1), ("y", 96, 32, 2), ("x", 80, 32, 2))
    s = settings({store!r}, d, version=aqz.ZarrVersion({version}),
                 compression=blosc("zstd") if {compressed} else None)
    stream = aqz.ZarrStream(s)
    i = 0
    while True:  # until killed
        stream.append(frame(i, 96, 80))
        i += 1
""")


@VERSIONS
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zstd"])
def test_sigkill_leaves_a_readable_prefix(tmp_path, version, compressed):
    rng = random.Random(f"{version}-{compressed}")
    tests = str(Path(__file__).resolve().parent)
    for attempt in range(3):
        store = tmp_path / f"crash-{attempt}.zarr"
        code = CHILD.format(tests=tests, store=str(store), version=int(version),
                            compressed=compressed)
        child = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
        try:
            # Let it get going (some rows complete), then kill it at a random moment.
            assert wait_for(lambda: metadata_extent(store / "0", version) >= 4, timeout=60), \
                child.stderr.read1().decode() if child.poll() is not None else "no progress"
            time.sleep(rng.uniform(0.0, 0.4))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL

        # No repair step: strict JSON everywhere, and zarr-python reads it all.
        # (A metadata rewrite cut short by the kill leaves a hidden
        # `.zarr.json.<pid>.<n>.partial` beside the intact document; that
        # file is not metadata and no reader opens it.)
        for meta in list(store.rglob("zarr.json")) + list(store.rglob(".z*")):
            if not meta.name.endswith(".partial"):
                strict_json(meta)
        extent = metadata_extent(store / "0", version)
        assert extent >= 4
        array = zarr.open_array(str(store / "0"), mode="r")
        data = array[...]
        assert data.shape == (extent, 2, 96, 80)
        for t in range(extent):
            for c in range(2):
                np.testing.assert_array_equal(data[t, c], frame(2 * t + c, 96, 80),
                                              err_msg=f"t={t} c={c} of {extent}")
        # Whatever was in flight is hidden under temporary names, never at a
        # chunk key a reader would open.
        for p in store.rglob("*"):
            if p.is_file() and p.name.endswith(".partial"):
                assert p.name.startswith(".")
