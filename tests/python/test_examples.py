"""The Python examples run as users run them (a subprocess, the package as
installed) and their stores are read back with zarr-python.

examples/stream_basic.py (the README quick start) is run by
test_python_api.py::test_examples_python_quick_start_runs; here: the
`make demo` script, scaled down."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import zarr

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.py"


def load_demo_module():
    spec = importlib.util.spec_from_file_location("acquire_zarr_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_streams_reports_and_verifies(tmp_path):
    # 7 frames round up to 3 timepoints of 3 channels. Bytes, not text: text
    # mode would turn the progress bar's carriage returns into newlines.
    result = subprocess.run(
        [sys.executable, str(DEMO), "--frames", "7", "--size", "96", "--output", "small.zarr"],
        cwd=tmp_path, capture_output=True, timeout=300)
    out = result.stdout.decode()
    assert result.returncode == 0, out + result.stderr.decode()
    assert "\r[" in out  # progress bar redrawn in place
    assert "9/9 frames" in out
    assert "throughput:" in out and "GiB/s raw" in out and "ratio" in out
    assert "OME-NGFF 0.5 axes: t (time, second), c (channel), y (space, micrometer)" in out
    assert "read back: sampled frames match what was appended" in out

    # Every frame, not just the demo's samples, is what the demo appended.
    pool = load_demo_module().microscopy_frames(16, 96, 96)
    array = zarr.open_array(str(tmp_path / "small.zarr" / "0"), mode="r")
    assert array.shape == (3, 3, 96, 96)
    assert array.dtype == np.uint16
    data = array[:]
    for t in range(3):
        for c in range(3):
            np.testing.assert_array_equal(data[t, c], pool[(t * 3 + c) % len(pool)])

    meta = json.loads((tmp_path / "small.zarr" / "0" / "zarr.json").read_text())
    sharding = meta["codecs"][0]
    assert sharding["name"] == "sharding_indexed"
    blosc = sharding["configuration"]["codecs"][1]
    assert blosc["name"] == "blosc"
    assert blosc["configuration"]["cname"] == "lz4"
    assert blosc["configuration"]["shuffle"] == "shuffle"


def test_demo_rejects_nonsense_arguments(tmp_path):
    result = subprocess.run([sys.executable, str(DEMO), "--frames", "0"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "must be positive" in result.stderr
    assert not (tmp_path / "demo.zarr").exists()
