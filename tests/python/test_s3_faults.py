"""S3 under faults: a proxy in front of the S3 server drops connections,
delays, and answers 500/503/429. Transient faults are retried and the data
arrives intact; a fault that persists surfaces as an error from append or
close, promptly, and no multipart upload is left behind."""

from __future__ import annotations

import time

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import blosc, dims, expected_array, random_frames, settings
from test_s3 import objects, open_zarr


def through(proxy, bucket, prefix, d, dtype=np.uint16, **kwargs):
    s = settings("unused", d, dtype=dtype, **kwargs)
    s.store_path = prefix
    s.s3 = aqz.S3Settings(endpoint=proxy.endpoint, bucket_name=bucket)
    return s


@pytest.mark.parametrize("version", [aqz.ZarrVersion.V2, aqz.ZarrVersion.V3])
def test_transient_faults_are_retried(s3_server, s3_bucket, fault_proxy, version):
    proxy = fault_proxy(rate=0.3, seed=int(version))
    # v3: 8 MiB+ shards (multipart); v2: many small chunk objects.
    d = dims(("t", 0, 4, 2), ("y", 700, 512, 2), ("x", 900, 512, 2))
    frames = random_frames(34, 700, 900, np.uint16, seed=11)
    with aqz.ZarrStream(through(proxy, s3_bucket, "flaky.zarr", d, version=version,
                                compression=blosc("lz4"))) as stream:
        for i in range(0, len(frames), 3):
            stream.append(frames[i:i + 3])
    assert proxy.injected() >= 5, proxy.counters
    got = open_zarr(s3_server, s3_bucket, "flaky.zarr/0")[...]
    np.testing.assert_array_equal(got, expected_array(frames, d))
    assert not s3_server.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads")


def test_a_part_that_keeps_failing_fails_close_and_the_upload_is_aborted(
        s3_server, s3_bucket, fault_proxy):
    # Every UploadPart fails; everything else (including the abort) works.
    proxy = fault_proxy(rule=lambda method, path: "503" if "partNumber=" in path else None)
    # 16 MiB shards of two 8 MiB chunks: written as they fill, so as a
    # multipart upload (a shard of one chunk would be one PutObject).
    d = dims(("t", 0, 8, 1), ("y", 1024, 512, 2), ("x", 1024, 1024, 1))
    frames = random_frames(8, 1024, 1024, np.uint16, seed=2)
    stream = aqz.ZarrStream(through(proxy, s3_bucket, "broken.zarr", d))
    started = time.monotonic()
    with pytest.raises(OSError) as info:
        stream.append(frames)
        stream.close()
    elapsed = time.monotonic() - started
    text = str(info.value)
    assert "upload part" in text and "s3://" + s3_bucket + "/broken.zarr/0/c/0/0/0" in text, text
    assert "HTTP 503" in text, text
    assert elapsed < 120, f"took {elapsed:.0f} s to report the failure"
    assert proxy.counters.injected["503"] >= 8  # retried before giving up
    assert not s3_server.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads")
    # The shard never completed, so it does not exist; the metadata does.
    keys = objects(s3_server, s3_bucket)
    assert "broken.zarr/0/zarr.json" in keys
    assert "broken.zarr/0/c/0/0/0" not in keys


def test_small_objects_that_keep_failing_fail_append_or_close(s3_server, s3_bucket,
                                                              fault_proxy):
    proxy = fault_proxy()
    d = dims(("t", 0, 1, 1), ("y", 64, 32, 1), ("x", 64, 32, 1))
    stream = aqz.ZarrStream(through(proxy, s3_bucket, "down.zarr", d,
                                    version=aqz.ZarrVersion.V2))
    frames = random_frames(4, 64, 64, np.uint16)
    stream.append(frames[:2])
    # The endpoint starts failing every request (the server went away).
    proxy.rule = lambda method, path: "drop"
    with pytest.raises(OSError) as info:
        stream.append(frames[2:])
        stream.close()
    assert "s3://" + s3_bucket + "/down.zarr/" in str(info.value)
