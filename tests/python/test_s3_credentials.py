"""Streams to the S3 test server (SeaweedFS, checking signatures) with
credentials from STS web identity, the container endpoint and EC2 instance
metadata (IMDSv2), each played by tests/s3/credserver.py on loopback and
handing out the server's key with a short Expiration, so the stream refreshes
them while it runs.

SeaweedFS takes a request with a session token for an STS session of its
own, so the fake endpoint hands out no Token here; the C++ tests
(test_s3_credentials) check that tokens are passed on."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import dims, random_frames
from test_s3 import open_zarr, s3_settings

CREDSERVER = Path(__file__).resolve().parents[1] / "s3" / "credserver.py"
ROLE = "arn:aws:iam::123456789012:role/acquire-test"


@pytest.fixture
def cred_server():
    """The fake credentials endpoint in a process of its own (the stream's
    I/O threads call it while this process is inside the library)."""
    proc = subprocess.Popen([sys.executable, str(CREDSERVER), "--serve"],
                            stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    yield url
    proc.kill()
    proc.wait()
    proc.stdout.close()


def configure(url, **settings):
    request = urllib.request.Request(url + "/_ctl/config", data=json.dumps(settings).encode())
    urllib.request.urlopen(request).read()


def stats(url):
    return json.loads(urllib.request.urlopen(url + "/_ctl/stats").read())


def only_remote_sources(monkeypatch, tmp_path):
    """No credentials in the environment or in files, and no real IMDS."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def use_web_identity(url, monkeypatch, tmp_path):
    token = tmp_path / "web-identity-token"
    token.write_text("fake-web-identity-token\n")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    monkeypatch.setenv("AWS_ROLE_ARN", ROLE)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", url + "/sts")
    return "sts"


def use_container(url, monkeypatch, tmp_path):
    auth = tmp_path / "container-token"
    auth.write_text("Bearer container-secret-token\n")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url + "/container/credentials")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(auth))
    return "container"


def use_imds(url, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url + "/imds")
    return "imds_credentials"


@pytest.mark.parametrize("source", [use_web_identity, use_container, use_imds],
                         ids=["web-identity", "container", "imds"])
def test_stream_writes_with_refreshed_remote_credentials(
        s3_server, s3_bucket, cred_server, source, monkeypatch, tmp_path, capfd, debug_log):
    only_remote_sources(monkeypatch, tmp_path)
    counter = source(cred_server, monkeypatch, tmp_path)
    # Credentials valid for 3-4 s (whole seconds), so refreshed every ~2 s.
    configure(cred_server, access_key_id=s3_server.access_key_id,
              secret_access_key=s3_server.secret_access_key, session_token="",
              numbered=False, lifetime=4,
              container_authorization="Bearer container-secret-token")

    d = dims(("t", 0, 1, 1), ("y", 16, 16, 1), ("x", 16, 16, 1))
    frames = random_frames(14, 16, 16, np.uint16, seed=3)
    s = s3_settings(s3_server, s3_bucket, "creds.zarr", d, version=aqz.ZarrVersion.V2)
    with aqz.ZarrStream(s) as stream:
        for frame in frames:  # one chunk per frame, written as it comes: ~7 s
            stream.append(frame)
            time.sleep(0.5)

    np.testing.assert_array_equal(open_zarr(s3_server, s3_bucket, "creds.zarr/0")[...], frames)
    seen = stats(cred_server)
    assert seen["refused"] == 0, seen
    assert seen[counter] >= 3, seen  # the first fetch and refreshes during the stream
    out, err = capfd.readouterr()
    for secret in (s3_server.secret_access_key, "container-secret-token",
                   "fake-web-identity-token"):
        assert secret not in out + err


def test_container_endpoint_refusing_the_token_fails_create_naming_it(
        s3_server, s3_bucket, cred_server, monkeypatch, tmp_path):
    only_remote_sources(monkeypatch, tmp_path)
    use_container(cred_server, monkeypatch, tmp_path)
    configure(cred_server, container_authorization="Bearer another-token")
    d = dims(("t", 0, 1, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    with pytest.raises(ValueError, match="container credentials endpoint.*HTTP 401") as info:
        aqz.ZarrStream(s3_settings(s3_server, s3_bucket, "refused.zarr", d))
    assert "container-secret-token" not in str(info.value)
