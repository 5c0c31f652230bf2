"""examples/demo.py (`make demo`) at a small size, run as users run it: the
picture it draws beside the store is a real image and its path is printed, and
the store opens with ome-zarr's reader (ome_zarr.io.parse_url +
ome_zarr.reader.Reader; napari-ome-zarr 0.11 reads through ome-zarr) with
every pyramid level's shape, level 0's data as appended and level 1 its mean.
(test_examples.py checks the demo's output text and codecs.)
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.py"
TIMEPOINTS, CHANNELS, SIZE = 4, 3, 96


def run_demo(cwd: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, str(DEMO), *args], cwd=cwd, capture_output=True, timeout=300)
    out = result.stdout.decode()
    assert result.returncode == 0, out + result.stderr.decode()
    return out


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One small run: 12 frames = 4 timepoints x 3 channels of 96 x 96 into small.zarr."""
    cwd = tmp_path_factory.mktemp("demo")
    out = run_demo(cwd, "--frames", str(TIMEPOINTS * CHANNELS), "--size", str(SIZE), "--output", "small.zarr")
    return cwd, out


def appended_frames() -> np.ndarray:
    """What the demo appended, as a (t, c, y, x) array."""
    spec = importlib.util.spec_from_file_location("acquire_zarr_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pool = module.microscopy_frames(16, SIZE, SIZE)
    frames = [pool[i % len(pool)] for i in range(TIMEPOINTS * CHANNELS)]
    return np.stack(frames).reshape(TIMEPOINTS, CHANNELS, SIZE, SIZE)


def assert_real_picture(png: Path) -> None:
    from PIL import Image

    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.size == (1400, 900)  # 14 x 9 inches at 100 dpi
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.std() > 20  # not a blank canvas
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 1000  # colour-mapped frames, not only lines and text


def test_demo_draws_a_picture_beside_the_store_and_prints_its_path(demo_run):
    cwd, out = demo_run
    png = cwd / "small.png"
    assert f"picture: {png}" in out.splitlines()
    assert_real_picture(png)


def test_demo_puts_the_picture_where_png_says(tmp_path):
    out = run_demo(tmp_path, "--frames", "3", "--size", "64", "--output", "store", "--png", "pictures.png")
    assert f"picture: {tmp_path / 'pictures.png'}" in out.splitlines()
    assert_real_picture(tmp_path / "pictures.png")
    assert not (tmp_path / "store.png").exists()


def test_demo_store_opens_with_ome_zarr_reader_with_its_pyramid_and_data(demo_run):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    cwd, _ = demo_run
    location = parse_url(str(cwd / "small.zarr"))
    assert location is not None, "ome-zarr does not see a Zarr store"
    image = next(iter(Reader(location)()))
    assert image.load(Multiscales) is not None
    # 96 px frames in 12 px chunks: y and x halve until one chunk is left.
    assert [level.shape for level in image.data] == [
        (TIMEPOINTS, CHANNELS, s, s) for s in (96, 48, 24, 12)]
    assert all(level.dtype == np.uint16 for level in image.data)
    assert [axis["name"] for axis in image.metadata["axes"]] == ["t", "c", "y", "x"]

    expected = appended_frames()
    level0 = np.asarray(image.data[0])
    np.testing.assert_array_equal(level0, expected)
    # Level 1 is the 2x2 mean of level 0, truncated to uint16 (the demo's method).
    blocks = expected.reshape(TIMEPOINTS, CHANNELS, SIZE // 2, 2, SIZE // 2, 2).astype(np.uint32)
    np.testing.assert_array_equal(np.asarray(image.data[1]), (blocks.sum(axis=(3, 5)) // 4).astype(np.uint16))
