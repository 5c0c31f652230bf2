"""Fixtures shared by the Python tests."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s3"))
import s3server  # noqa: E402

_buckets = itertools.count()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """SeaweedFS (a real S3 server) on loopback ports, checking signatures."""
    server = s3server.start(tmp_path_factory.mktemp("seaweedfs") / "seaweedfs.log")
    yield server
    server.stop()


@pytest.fixture
def own_s3_server(tmp_path):
    """A SeaweedFS server of the test's own, which the test may kill and
    restart."""
    server = s3server.start(tmp_path / "seaweedfs.log")
    yield server
    server.stop()


def use_server_credentials(server, monkeypatch):
    """The server's key in the environment, and no credentials file that
    could be picked up instead."""
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")


@pytest.fixture
def s3_bucket(s3_server, monkeypatch):
    """A fresh, empty bucket; the server's IAM credentials in the environment
    (and no credentials file that could be picked up instead)."""
    name = f"test-bucket-{os.getpid()}-{next(_buckets)}"
    s3_server.client().create_bucket(Bucket=name)
    use_server_credentials(s3_server, monkeypatch)
    return name


@pytest.fixture
def fault_proxy(s3_server):
    """Makes fault-injecting proxies in front of the S3 server."""
    import faultproxy

    proxies = []

    def make(**kwargs):
        proxy = faultproxy.FaultProxy(s3_server.endpoint, **kwargs)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def debug_log():
    """The library's debug log on stderr for the test (it says which path a
    stream took)."""
    import acquire_zarr as aqz
    before = aqz.get_log_level()
    aqz.set_log_level(aqz.LogLevel.DEBUG)
    yield
    aqz.set_log_level(before)
