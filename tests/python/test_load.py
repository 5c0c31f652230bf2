"""Load: a long stream (20 GiB of frames through small chunks, 5-D, many
objects) with the child's memory sampled throughout: peak RSS must stay
flat, i.e. it does not grow with the number of frames appended."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import zarr

FRAMES = 40960          # 512 x 512 uint16 = 512 KiB each: 20 GiB in all
CHILD = textwrap.dedent("""
    import sys, numpy as np, acquire_zarr as aqz
    store, frames = sys.argv[1], int(sys.argv[2])
    d = [aqz.Dimension(name="t", kind=aqz.DimensionType.TIME, array_size_px=0,
                       chunk_size_px=1, shard_size_chunks=4),
         aqz.Dimension(name="c", kind=aqz.DimensionType.CHANNEL, array_size_px=2,
                       chunk_size_px=1, shard_size_chunks=2),
         aqz.Dimension(name="z", kind=aqz.DimensionType.SPACE, array_size_px=8,
                       chunk_size_px=4, shard_size_chunks=2),
         aqz.Dimension(name="y", kind=aqz.DimensionType.SPACE, array_size_px=512,
                       chunk_size_px=64, shard_size_chunks=4),
         aqz.Dimension(name="x", kind=aqz.DimensionType.SPACE, array_size_px=512,
                       chunk_size_px=64, shard_size_chunks=4)]
    s = aqz.StreamSettings(store_path=store, dimensions=d, data_type=np.uint16,
                           overwrite=True, max_threads=2,
                           compression=aqz.CompressionSettings(
                               compressor=aqz.Compressor.BLOSC1,
                               codec=aqz.CompressionCodec.BLOSC_LZ4, level=1, shuffle=1))
    # A few distinct, smooth frames (they compress well: the disk is not the
    # subject here), each stamped with its index in its first pixel.
    y, x = np.mgrid[0:512, 0:512]
    pool = [((y + 3 * x + 97 * k) % 4096).astype(np.uint16) for k in range(8)]
    stream = aqz.ZarrStream(s)
    for i in range(frames):
        f = pool[i % 8]
        f[0, 0] = i % 65536
        stream.append(f)
        if i % 1024 == 1023:
            print(i + 1, flush=True)
    stream.close()
    print("closed", flush=True)
""")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_rss_stays_flat_over_20_gib(tmp_path):
    store = tmp_path / "load.zarr"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(store), str(FRAMES)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[int, float]] = []  # (frames appended, RSS MiB)
    progress = [0]

    def sample():
        while child.poll() is None:
            try:
                samples.append((progress[0], rss_mib(child.pid)))
            except OSError:
                break
            time.sleep(0.05)

    def read_progress():
        for line in child.stdout:
            if line.strip().isdigit():
                progress[0] = int(line)

    sampler = threading.Thread(target=sample)
    reader = threading.Thread(target=read_progress)
    sampler.start()
    reader.start()
    started = time.monotonic()
    try:
        child.wait(timeout=1200)
    except subprocess.TimeoutExpired:
        child.kill()  # a hang fails the test instead of stopping the suite
        child.wait()
        pytest.fail(f"the stream did not finish in 1200 s; it had appended {progress[0]} frames")
    finally:
        reader.join()
        sampler.join()
    stderr = child.stderr.read()
    child.stdout.close()
    child.stderr.close()
    assert child.returncode == 0, stderr
    elapsed = time.monotonic() - started

    warm = [r for n, r in samples if FRAMES // 10 <= n < FRAMES // 4]
    late = [r for n, r in samples if n >= FRAMES // 2]
    assert warm and late, f"too few samples ({len(samples)})"
    report = (f"{FRAMES} frames ({FRAMES * 512 * 512 * 2 / 2**30:.0f} GiB) in {elapsed:.0f} s; "
              f"peak RSS {max(warm):.0f} MiB at 10-25%, {max(late):.0f} MiB at 50-100%")
    print(report)
    assert max(late) <= max(warm) + 32, report

    meta = json.loads((store / "0" / "zarr.json").read_text())
    assert meta["shape"] == [FRAMES // 16, 2, 8, 512, 512]
    array = zarr.open_array(str(store / "0"), mode="r")
    for i in (0, 12345, FRAMES - 1):  # frames 16 per timepoint: c=2 x z=8
        t, c, z = i // 16, (i // 8) % 2, i % 8
        assert array[t, c, z, 0, 0] == i % 65536
        y, x = np.mgrid[0:512, 0:512]
        expected = ((y + 3 * x + 97 * (i % 8)) % 4096).astype(np.uint16)
        expected[0, 0] = i % 65536
        np.testing.assert_array_equal(array[t, c, z], expected)
    shutil.rmtree(store)
