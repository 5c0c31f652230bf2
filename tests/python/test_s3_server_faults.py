"""S3 when the server itself fails: SeaweedFS killed mid-stream and started
again within the retry window, killed for good, and answering slowly (a
delaying proxy in front of it). Nothing acknowledged is lost; what cannot be
stored is reported with the object that failed."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import acquire_zarr as aqz
from conftest import use_server_credentials
from streamkit import blosc, dims, expected_array, random_frames, settings
from test_s3 import objects, open_zarr


def s3_stream_settings(endpoint, bucket, prefix, d, **kwargs):
    s = settings("unused", d, **kwargs)
    s.store_path = prefix
    s.s3 = aqz.S3Settings(endpoint=endpoint, bucket_name=bucket)
    return s


@pytest.fixture
def own_bucket(own_s3_server, monkeypatch):
    own_s3_server.client().create_bucket(Bucket="fault-bucket")
    use_server_credentials(own_s3_server, monkeypatch)
    return "fault-bucket"


@pytest.mark.parametrize("version", [aqz.ZarrVersion.V2, aqz.ZarrVersion.V3])
def test_a_server_restarted_within_the_retry_window_loses_nothing(own_s3_server, own_bucket,
                                                                  version):
    server = own_s3_server
    d = dims(("t", 0, 2, 2), ("y", 256, 128, 2), ("x", 256, 128, 2))
    frames = random_frames(24, 256, 256, np.uint16, seed=5)
    stream = aqz.ZarrStream(s3_stream_settings(server.endpoint, own_bucket, "restart.zarr", d,
                                               version=version, compression=blosc("lz4")))
    stream.append(frames[:8])
    # The server dies between appends and is back a moment later; the
    # appends made meanwhile wait on the retries instead of failing.
    server.kill()
    restarter = threading.Thread(target=lambda: (time.sleep(0.5), server.restart()))
    restarter.start()
    try:
        for i in range(8, len(frames), 4):
            stream.append(frames[i:i + 4])
        stream.close()
    finally:
        restarter.join()
    got = open_zarr(server, own_bucket, "restart.zarr/0")[...]
    np.testing.assert_array_equal(got, expected_array(frames, d))


def test_a_server_gone_for_good_fails_close_naming_the_object(own_s3_server, own_bucket):
    server = own_s3_server
    d = dims(("t", 0, 2, 1), ("y", 128, 64, 2), ("x", 128, 64, 2))
    frames = random_frames(8, 128, 128, np.uint16, seed=6)
    stream = aqz.ZarrStream(s3_stream_settings(server.endpoint, own_bucket, "gone.zarr", d))
    stream.append(frames[:4])
    server.kill()
    started = time.monotonic()
    # The failure surfaces at the append that meets it or at close; close
    # reports it in either case.
    try:
        stream.append(frames[4:])
    except OSError:
        pass
    with pytest.raises(OSError) as info:
        stream.close()
    text = str(info.value)
    assert f"s3://{own_bucket}/gone.zarr/" in text, text
    assert "connect" in text.lower(), text
    assert time.monotonic() - started < 120
    assert not stream.is_active()


def test_a_slow_server_gets_every_byte(s3_server, s3_bucket, fault_proxy):
    # Every request waits 0.2 s in the proxy before it reaches the server.
    proxy = fault_proxy(rule=lambda method, path: "delay", delay=0.2)
    d = dims(("t", 0, 4, 1), ("y", 512, 256, 2), ("x", 512, 256, 2))
    frames = random_frames(16, 512, 512, np.uint16, seed=7)
    with aqz.ZarrStream(s3_stream_settings(proxy.endpoint, s3_bucket, "slow.zarr", d,
                                           compression=blosc("zstd"))) as stream:
        for i in range(0, len(frames), 2):
            stream.append(frames[i:i + 2])
    assert proxy.counters.injected["delay"] >= 4, proxy.counters
    got = open_zarr(s3_server, s3_bucket, "slow.zarr/0")[...]
    np.testing.assert_array_equal(got, expected_array(frames, d))
    assert {"slow.zarr/zarr.json", "slow.zarr/0/zarr.json"} <= set(objects(s3_server, s3_bucket))


def test_a_wrong_access_key_id_is_refused_at_create(s3_server, s3_bucket, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOSUCHKEY0000000")
    d = dims(("t", 0, 1, 1), ("y", 16, 16, 1), ("x", 16, 16, 1))
    with pytest.raises((OSError, ValueError)) as info:
        aqz.ZarrStream(s3_stream_settings(s3_server.endpoint, s3_bucket, "denied.zarr", d))
    text = str(info.value)
    assert s3_bucket in text and "HTTP 403" in text, text
    assert "AKIANOSUCHKEY" not in text
    assert not objects(s3_server, s3_bucket)
