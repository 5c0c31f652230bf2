"""Which request writes an object whose bytes are all known when it is
first written (docs/s3.md, "One PutObject or a multipart upload"): one
PutObject up to the threshold (the store's s3::kMaxSinglePut), a multipart
upload of 8 MiB parts above, against SeaweedFS. The requests are counted by
a loopback proxy in front of the server."""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import dims, random_frames, settings
from test_s3 import objects, open_zarr, run

MIB = 1 << 20
THRESHOLD = 64 * MIB  # s3::kMaxSinglePut (src/storage/s3/multipart_sink.hh)
PART = 8 * MIB


class RequestLog:
    """The proxy's rule: records (method, path) and injects nothing."""

    def __init__(self):
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, method, path):
        with self._lock:
            self.seen.append((method, path))
        return None

    def kinds(self, bucket, key):
        """The S3 operations sent for `key`, counted."""
        out = Counter()
        for method, path in self.seen:
            target, _, query = path.partition("?")
            if target != f"/{bucket}/{key}":
                continue
            if method == "PUT":
                out["UploadPart" if "partNumber=" in query else "PutObject"] += 1
            elif method == "POST":
                out["CreateMultipartUpload" if "uploads" in query.split("&")
                    else "CompleteMultipartUpload"] += 1
            else:
                out[method] += 1
        return out


@pytest.mark.parametrize("version, frames_per_chunk, stored, single", [
    # A one-chunk v3 shard of 63 MiB and its 20-byte index: under.
    (aqz.ZarrVersion.V3, 63, 63 * MIB + 20, True),
    # A v2 chunk of exactly the threshold (no index): one PutObject.
    (aqz.ZarrVersion.V2, 64, 64 * MIB, True),
    # A one-chunk v3 shard of 64 MiB and its index: 20 bytes past it.
    (aqz.ZarrVersion.V3, 64, 64 * MIB + 20, False),
])
def test_a_whole_object_is_one_put_object_up_to_the_threshold_and_multipart_past_it(
        s3_server, s3_bucket, fault_proxy, version, frames_per_chunk, stored, single):
    log = RequestLog()
    proxy = fault_proxy(rule=log)
    # Uncompressed 512x1024 uint16 frames: 1 MiB each, one chunk per shard.
    d = dims(("t", 0, frames_per_chunk, 1), ("y", 512, 512, 1), ("x", 1024, 1024, 1))
    frames = random_frames(frames_per_chunk, 512, 1024, np.uint16, seed=frames_per_chunk)
    s = settings("unused", d, version=version)
    s.store_path = "whole.zarr"
    s.s3 = aqz.S3Settings(endpoint=proxy.endpoint, bucket_name=s3_bucket)
    run(s, frames)

    data = {k: o for k, o in objects(s3_server, s3_bucket).items() if o["Size"] > MIB}
    assert [o["Size"] for o in data.values()] == [stored]
    key = next(iter(data))
    kinds = log.kinds(s3_bucket, key)
    if single:
        assert kinds == Counter(PutObject=1)
    else:
        parts = -(-stored // PART)
        assert kinds == Counter(CreateMultipartUpload=1, UploadPart=parts,
                                CompleteMultipartUpload=1)
    np.testing.assert_array_equal(open_zarr(s3_server, s3_bucket, "whole.zarr/0")[...], frames)


def test_a_shard_written_as_it_fills_is_a_multipart_upload_whatever_its_size(
        s3_server, s3_bucket, fault_proxy):
    # Two 8 MiB chunks per shard (16 MiB, under the threshold): the chunks
    # arrive one by one, so the shard streams out in parts.
    log = RequestLog()
    proxy = fault_proxy(rule=log)
    d = dims(("t", 0, 8, 2), ("y", 512, 512, 1), ("x", 1024, 1024, 1))
    frames = random_frames(16, 512, 1024, np.uint16, seed=3)
    s = settings("unused", d)
    s.store_path = "fills.zarr"
    s.s3 = aqz.S3Settings(endpoint=proxy.endpoint, bucket_name=s3_bucket)
    run(s, frames)
    data = {k: o for k, o in objects(s3_server, s3_bucket).items() if o["Size"] > MIB}
    assert [o["Size"] for o in data.values()] == [16 * MIB + 2 * 16 + 4]
    kinds = log.kinds(s3_bucket, next(iter(data)))
    assert kinds["PutObject"] == 0 and kinds["CreateMultipartUpload"] == 1, kinds
    assert kinds["UploadPart"] >= 2 and kinds["CompleteMultipartUpload"] == 1, kinds
    np.testing.assert_array_equal(open_zarr(s3_server, s3_bucket, "fills.zarr/0")[...], frames)
