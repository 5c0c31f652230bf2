"""Open files are a bounded resource: a stream with thousands of shards open
at once runs under a small RLIMIT_NOFILE (the files idle longest are closed
and reopened at their next write) and everything reads back."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import assert_readers_see, expected_array, random_frames

# 4096 x 4096 frames in 64 x 64 chunks, one chunk per shard: 4096 shards per
# row of the append dimension, all unfinished while a chunk of 2 frames fills.
_CHILD = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import acquire_zarr as aqz
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    path, version, codec = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    compression = None
    if codec == "lz4":
        compression = aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1,
                                              codec=aqz.CompressionCodec.BLOSC_LZ4,
                                              level=1, shuffle=1)
    dims = [aqz.Dimension(name="t", kind=aqz.DimensionType.TIME, array_size_px=0,
                          chunk_size_px=2, shard_size_chunks=1),
            aqz.Dimension(name="y", kind=aqz.DimensionType.SPACE, array_size_px=4096,
                          chunk_size_px=64, shard_size_chunks=1),
            aqz.Dimension(name="x", kind=aqz.DimensionType.SPACE, array_size_px=4096,
                          chunk_size_px=64, shard_size_chunks=1)]
    settings = aqz.StreamSettings(store_path=path, dimensions=dims, data_type=np.uint8,
                                  version=aqz.ZarrVersion(version), compression=compression,
                                  overwrite=True, max_threads=2)
    frames = np.load(sys.argv[4])
    with aqz.ZarrStream(settings) as stream:
        for frame in frames:
            stream.append(frame)
""")


@pytest.mark.parametrize("version,codec", [(3, "none"), (3, "lz4"), (2, "none")])
def test_4096_shards_per_row_stream_under_ulimit_64(tmp_path, version, codec):
    frames = random_frames(5, 4096, 4096, np.uint8, seed=version)
    np.save(tmp_path / "frames.npy", frames)
    store = tmp_path / "wide.zarr"
    done = subprocess.run([sys.executable, "-c", _CHILD, str(store), str(version), codec,
                           str(tmp_path / "frames.npy")], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    dims = [aqz.Dimension(name=n, kind=aqz.DimensionType.SPACE, array_size_px=s,
                          chunk_size_px=c, shard_size_chunks=1)
            for n, s, c in (("t", 0, 2), ("y", 4096, 64), ("x", 4096, 64))]
    assert_readers_see(store / "0", expected_array(frames, dims), aqz.ZarrVersion(version))
