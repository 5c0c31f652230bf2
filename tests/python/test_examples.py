"""The Python examples run as users run them (a subprocess, the package as
installed) and their stores are read back with zarr-python (and, for the
current API's examples, TensorStore and ome-zarr-models).

examples/stream_basic.py (the README quick start) is run by
test_python_api.py::test_examples_python_quick_start_runs; here: the
`make demo` script, scaled down, and the multi-array and HCS plate examples.
Their C twins (examples/stream_multi_array.c, stream_hcs_plate.c) write the
same stores; ctest runs them and then this file as a script to check them:

    python test_examples.py multi_array|hcs_plate STORE
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorstore as ts
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


# --- the current API's examples (examples/multi_array.py, hcs_plate.py and their C twins) ---

def node(path: Path) -> dict:
    return json.loads((path / "zarr.json").read_text())


def read_with_tensorstore(path: Path) -> np.ndarray:
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}
    return ts.open(spec, open=True, read=True).result().read().result()


def check_multi_array(store: Path) -> None:
    """What examples/multi_array.py and stream_multi_array.c write."""
    t, c = np.meshgrid(np.arange(4), np.arange(2), indexing="ij")
    for p in range(2):
        group = store / f"pos{p}"
        attributes = node(group)["attributes"]
        assert attributes["stage"] == {"x_um": 1500.0 * p, "y_um": 0.0}
        (entry,) = attributes["ome"]["multiscales"]
        assert [a["name"] for a in entry["axes"]] == ["t", "c", "y", "x"]
        assert [d["path"] for d in entry["datasets"]] == ["0", "1"]  # max_levels 1
        assert [d["coordinateTransformations"][0]["scale"] for d in entry["datasets"]] == [
            [30.0, 1.0, 0.65, 0.65], [30.0, 1.0, 1.3, 1.3]]
        assert not (group / "2").exists()
        expected = (1000 * p + 100 * c + t).astype(np.uint16)[:, :, None, None]
        for level, shape in (("0", (4, 2, 256, 320)), ("1", (4, 2, 128, 160))):
            for data in (zarr.open_array(str(group / level), mode="r")[:],
                         read_with_tensorstore(group / level)):
                assert data.shape == shape and data.dtype == np.uint16
                np.testing.assert_array_equal(data, np.broadcast_to(expected, shape))
    overview = store / "overview"
    assert node(overview)["node_type"] == "array"  # no pyramid, not NGFF: a plain array
    yy, xx = np.mgrid[0:512, 0:512]
    for data in (zarr.open_array(str(overview), mode="r")[:], read_with_tensorstore(overview)):
        assert data.dtype == np.uint8
        np.testing.assert_array_equal(data, ((yy + xx) % 256).astype(np.uint8))
    from ome_zarr_models.v05.image import Image
    for p in range(2):
        Image.from_zarr(zarr.open_group(str(store / f"pos{p}"), mode="r"))


FIELDS = ["experiment/A/1/fov0", "experiment/A/1/fov1", "experiment/A/2/fov0", "experiment/B/3/fov0"]


def check_hcs_plate(store: Path) -> None:
    """What examples/hcs_plate.py and stream_hcs_plate.c write."""
    ome = node(store / "experiment")["attributes"]["ome"]
    assert ome["version"] == "0.5"
    plate = ome["plate"]
    assert plate["name"] == "Drug screen, plate 1"
    assert plate["rows"] == [{"name": "A"}, {"name": "B"}]
    assert plate["columns"] == [{"name": "1"}, {"name": "2"}, {"name": "3"}]
    assert plate["wells"] == [{"path": "A/1", "rowIndex": 0, "columnIndex": 0},
                              {"path": "A/2", "rowIndex": 0, "columnIndex": 1},
                              {"path": "B/3", "rowIndex": 1, "columnIndex": 2}]
    assert plate["acquisitions"] == [{"id": 0, "name": "first pass", "starttime": 1764000000000,
                                      "endtime": 1764000600000, "maximumfieldcount": 2}]
    assert plate["field_count"] == 2
    well = node(store / "experiment" / "A" / "1")["attributes"]["ome"]["well"]
    assert well["images"] == [{"path": "fov0", "acquisition": 0}, {"path": "fov1", "acquisition": 0}]
    c, z = np.meshgrid(np.arange(2), np.arange(3), indexing="ij")
    for i, key in enumerate(FIELDS):
        (entry,) = node(store / key)["attributes"]["ome"]["multiscales"]
        assert [d["path"] for d in entry["datasets"]] == ["0"]  # always NGFF, one level
        assert [a["name"] for a in entry["axes"]] == ["c", "z", "y", "x"]
        expected = np.broadcast_to((100 * i + 3 * c + z).astype(np.uint16)[:, :, None, None], (2, 3, 256, 256))
        for data in (zarr.open_array(str(store / key / "0"), mode="r")[:],
                     read_with_tensorstore(store / key / "0")):
            np.testing.assert_array_equal(data, expected)
    from ome_zarr_models.v05.hcs import HCS
    hcs = HCS.from_zarr(zarr.open_group(str(store / "experiment"), mode="r"))
    assert len(list(hcs.well_groups)) == 3


CHECKS = {"multi_array": check_multi_array, "hcs_plate": check_hcs_plate}


@pytest.mark.parametrize("example", sorted(CHECKS))
def test_current_api_python_example_writes_what_its_docstring_says(tmp_path, example):
    result = subprocess.run([sys.executable, str(REPO / "examples" / f"{example}.py")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"wrote {example}.zarr" in result.stdout
    CHECKS[example](tmp_path / f"{example}.zarr")


def readme_python_blocks(section: str) -> list[str]:
    """The ```python blocks of README.md's `## <section>`."""
    import re
    readme = (REPO / "README.md").read_text()
    start = readme.index(f"\n## {section}\n")
    end = readme.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", readme[start:end], re.S)


def test_readme_several_arrays_block_runs_and_reads_back(tmp_path):
    (block,) = readme_python_blocks("Several arrays in one stream")
    result = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    for i in range(4):
        data = zarr.open_array(str(tmp_path / "positions.zarr" / f"pos{i}"), mode="r")[:]
        expected = (100 * i + np.arange(10)).astype(np.uint16)[:, None, None]
        np.testing.assert_array_equal(data, np.broadcast_to(expected, (10, 512, 512)))


def test_readme_hcs_plate_block_runs_and_reads_back(tmp_path):
    (block,) = readme_python_blocks("HCS plates")
    result = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    plate = node(tmp_path / "plate.zarr" / "screen")["attributes"]["ome"]["plate"]
    assert [w["path"] for w in plate["wells"]] == ["A/1", "B/2"]
    assert plate["field_count"] == 2
    for i, key in enumerate(["screen/A/1/fov0", "screen/A/1/fov1", "screen/B/2/fov0"]):
        data = read_with_tensorstore(tmp_path / "plate.zarr" / key / "0")
        np.testing.assert_array_equal(data, np.full((5, 512, 512), i, np.uint16))


if __name__ == "__main__":  # ctest: check the store a C example wrote
    CHECKS[sys.argv[1]](Path(sys.argv[2]))
    print(f"{sys.argv[2]}: read back as expected")
