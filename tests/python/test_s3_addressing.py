"""S3 request addressing (docs/s3.md): path-style by default, virtual-host
(the bucket in the host name) when asked, against SeaweedFS started with a
domain for virtual-host requests (tests/s3/s3server.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import dims, expected_array, random_frames, settings
from test_s3 import objects, open_zarr, run


def virtual_settings(server, bucket, prefix, d, **kwargs):
    s = settings("unused", d, **kwargs)
    s.store_path = prefix
    s.s3 = aqz.S3Settings(endpoint=server.virtual_host_endpoint, bucket_name=bucket,
                          region=server.region, addressing_style="virtual")
    return s


def test_addressing_is_path_style_unless_asked():
    assert aqz.S3Settings(endpoint="http://h", bucket_name="b").addressing_style == "path"


def test_an_unknown_addressing_style_is_refused_naming_it():
    with pytest.raises(ValueError, match="S3Settings.addressing_style is 'auto'"):
        aqz.S3Settings(endpoint="http://h", bucket_name="b", addressing_style="auto")


@pytest.mark.parametrize("version", [aqz.ZarrVersion.V2, aqz.ZarrVersion.V3])
def test_virtual_host_addressing_writes_what_reads_back_path_style(s3_server, s3_bucket,
                                                                   version):
    d = dims(("t", 0, 4, 2), ("y", 48, 16, 2), ("x", 64, 32, 2))
    frames = random_frames(10, 48, 64, np.uint16, seed=3)
    run(virtual_settings(s3_server, s3_bucket, "vh/run.zarr", d, version=version), frames)
    # Read through path-style requests: the objects are in the bucket under
    # the prefix, so the server took the bucket from the host name.
    got = open_zarr(s3_server, s3_bucket, "vh/run.zarr/0")[...]
    np.testing.assert_array_equal(got, expected_array(frames, d))
    assert all(k.startswith("vh/run.zarr/") for k in objects(s3_server, s3_bucket))


def test_virtual_host_addressing_refuses_a_bucket_that_is_not_a_dns_label(s3_server):
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    with pytest.raises(ValueError,
                       match="s3_settings.bucket_name 'my.bucket' cannot go in a host name"):
        aqz.ZarrStream(virtual_settings(s3_server, "my.bucket", "x.zarr", d))


def test_virtual_host_addressing_refuses_an_ip_address_endpoint(s3_server, s3_bucket):
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    s = virtual_settings(s3_server, s3_bucket, "x.zarr", d)
    s.s3.endpoint = s3_server.endpoint  # http://127.0.0.1:port
    with pytest.raises(ValueError, match=f"s3_settings.endpoint '{re.escape(s3_server.endpoint)}'"
                                         " is an IP address"):
        aqz.ZarrStream(s)


def test_virtual_host_addressing_names_a_missing_bucket(s3_server, s3_bucket):
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    with pytest.raises(ValueError,
                       match="s3_settings.bucket_name 'no-such-bucket-here': no such bucket"):
        aqz.ZarrStream(virtual_settings(s3_server, "no-such-bucket-here", "x.zarr", d))
    assert not objects(s3_server, s3_bucket)
