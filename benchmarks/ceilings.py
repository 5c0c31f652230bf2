"""The machine's ceilings, measured in the same run as the writers
(shared/BENCHMARKS.md): durable disk bandwidth, memcpy, c-blosc on all cores,
and the local S3 server (SeaweedFS) run.py streams s3-v3 to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from scenarios import SCENARIOS  # noqa: E402

S3_BUCKET = "bench"


# --- ceilings ----------------------------------------------------------------------------

def disk_bandwidth(directory: Path, gib: float = 2.0, direct: bool = True, writers: int = 1) -> float:
    """`writers` threads each write their own file sequentially in 8 MiB
    blocks, then fdatasync it; GiB/s of all of them together. With `direct`
    (O_DIRECT, page-aligned buffers) the page cache is bypassed, as the
    library does for uncompressed chunks; falls back to buffered writes where
    the filesystem refuses O_DIRECT."""
    import mmap
    from concurrent.futures import ThreadPoolExecutor

    noise = np.random.default_rng(0).integers(0, 256, 8 << 20, dtype=np.uint8).tobytes()
    n = int(gib * 2**30) // len(noise) // writers

    def write(i: int) -> None:
        path = directory / f"ceiling-{i}.bin"
        block = mmap.mmap(-1, len(noise))  # page-aligned
        block.write(noise)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        try:
            fd = os.open(path, flags | (os.O_DIRECT if direct else 0), 0o644)
        except OSError:
            fd = os.open(path, flags, 0o644)
        try:
            for _ in range(n):
                os.write(fd, block)
            os.fdatasync(fd)
        finally:
            os.close(fd)
            block.close()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(writers) as ex:
        list(ex.map(write, range(writers)))
    seconds = time.perf_counter() - t0
    for i in range(writers):
        (directory / f"ceiling-{i}.bin").unlink()
    return writers * n * len(noise) / seconds / 2**30


def durable_disk_bandwidth(directory: Path) -> float:
    """The best of 1, 2 and 4 concurrent direct writers: the disk's durable
    bandwidth as a parallel writer can get it."""
    return max(disk_bandwidth(directory, writers=w) for w in (1, 2, 4))


def memcpy_bandwidth() -> float:
    src = np.ones(256 << 20, dtype=np.uint8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = max(best, src.nbytes / (time.perf_counter() - t0) / 2**30)
    return best


CODEC_CEILING = r"""
import json, os, sys, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np
sys.path.insert(0, sys.argv[1])
from scenarios import frame_pool, POOL
from numcodecs import blosc
blosc.use_threads = False
cname = sys.argv[2]
frames = frame_pool("microscopy")
# chunk-sized pieces (32 x 256 x 256 uint16 = 4 MiB), as the writers compress
pieces = [np.ascontiguousarray(np.stack([f[y:y+256, x:x+256] for f in frames * 4]))
          for y in range(0, 2048, 256) for x in range(0, 2048, 256)]
def one(p):
    return len(blosc.compress(p, cname.encode(), 1, blosc.SHUFFLE))
with ThreadPoolExecutor(os.cpu_count()) as ex:
    list(ex.map(one, pieces[:4]))
    t0 = time.perf_counter()
    sizes = list(ex.map(one, pieces * 2))
    seconds = time.perf_counter() - t0
raw = sum(p.nbytes for p in pieces) * 2
print(json.dumps({"gib_per_s": raw / seconds / 2**30, "ratio": raw / sum(sizes)}))
"""


def codec_ceiling(python: Path, cname: str) -> dict:
    out = subprocess.run([str(python), "-c", CODEC_CEILING, str(HERE), cname],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return {"error": out.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- runs --------------------------------------------------------------------------------

def start_s3():
    """SeaweedFS's S3 gateway on loopback (tests/s3/s3server.py), with a bucket."""
    sys.path.insert(0, str(REPO / "tests" / "s3"))
    import s3server
    server = s3server.start()
    server.client().create_bucket(Bucket=S3_BUCKET)
    return server


S3_CEILING_PARALLEL = 4


def s3_server_ceiling(server) -> float:
    """GiB/s the S3 server takes from curl: PUTs of lz4-v3-shard-sized
    objects (compressed at ratio ~2), S3_CEILING_PARALLEL in flight."""
    from s3_ceiling import ceiling
    shard = SCENARIOS["s3-v3"]
    shard_bytes = int(np.prod(shard.shards())) * 2 // 2
    gib = ceiling(server.endpoint, S3_BUCKET, server.access_key_id, server.secret_access_key,
                  shard_bytes, objects=8, parallel=S3_CEILING_PARALLEL)
    delete_prefix(server, "ceiling/")
    return gib


def delete_prefix(server, prefix: str) -> None:
    client = server.client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=S3_BUCKET, Delete={"Objects": keys})
    for upload in client.list_multipart_uploads(Bucket=S3_BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=S3_BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
