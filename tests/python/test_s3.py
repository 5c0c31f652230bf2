"""Streaming to S3: a real S3 server (SeaweedFS, with signature checking) on
loopback; everything written is read back with zarr-python through s3fs and
inspected with botocore."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import blosc, dims, expected_array, random_frames, settings


def s3_settings(server, bucket, prefix, dimensions, dtype=np.uint16, **kwargs):
    s = settings("unused", dimensions, dtype=dtype, **kwargs)
    s.store_path = prefix
    s.s3 = aqz.S3Settings(endpoint=server.endpoint, bucket_name=bucket, region=server.region)
    return s


def run(s, frames, pieces=None):
    with aqz.ZarrStream(s) as stream:
        if pieces is None:
            stream.append(frames)
        else:
            raw, offset = frames.tobytes(), 0
            for size in pieces:
                stream.append(raw[offset:offset + size])
                offset += size


def open_zarr(server, bucket, key):
    import zarr
    return zarr.open_array(
        f"s3://{bucket}/{key}", mode="r",
        storage_options={"key": server.access_key_id, "secret": server.secret_access_key,
                         "client_kwargs": {"endpoint_url": server.endpoint,
                                           "region_name": server.region}})


def objects(server, bucket, prefix=""):
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"]: o for page in pages for o in page.get("Contents", [])}


def get_json(server, bucket, key):
    return json.loads(server.client().get_object(Bucket=bucket, Key=key)["Body"].read())


RAGGED = (("t", 0, 3, 2), ("c", 3, 2, 1), ("y", 45, 16, 2), ("x", 50, 16, 3))


@pytest.mark.parametrize("version", [aqz.ZarrVersion.V2, aqz.ZarrVersion.V3])
@pytest.mark.parametrize("codec", ["none", "lz4", "zstd"])
def test_every_codec_and_version_reads_back_through_s3fs(s3_server, s3_bucket, version, codec):
    d = dims(*RAGGED)
    frames = random_frames(3 * 7 + 2, 45, 50, np.uint16, seed=7)  # partial last timepoint
    compression = None if codec == "none" else blosc(codec)
    s = s3_settings(s3_server, s3_bucket, "exp/run.zarr", d, version=version,
                    compression=compression)
    frame = 45 * 50 * 2
    run(s, frames, pieces=[frame // 2, frame // 2 + 3 * frame, frame - 3] +
        [frame] * 19 + [3])
    got = open_zarr(s3_server, s3_bucket, "exp/run.zarr/0")[...]
    np.testing.assert_array_equal(got, expected_array(frames, d))

    keys = objects(s3_server, s3_bucket)
    assert all(k.startswith("exp/run.zarr/") for k in keys), sorted(keys)
    if version == aqz.ZarrVersion.V3:
        group = get_json(s3_server, s3_bucket, "exp/run.zarr/zarr.json")
        assert group["attributes"]["ome"]["version"] == "0.5"
        assert group["attributes"]["ome"]["multiscales"][0]["name"] == "run.zarr"
        assert "exp/run.zarr/0/zarr.json" in keys
    else:
        assert "exp/run.zarr/.zattrs" in keys and "exp/run.zarr/0/.zarray" in keys
        assert get_json(s3_server, s3_bucket, "exp/run.zarr/0/.zarray")["shape"][0] == 8


def test_large_shards_stream_as_multipart_uploads(s3_server, s3_bucket):
    # 8 frames of 1024x1024 uint16 per shard: 16 MiB shards, several 8 MiB parts.
    d = dims(("t", 0, 4, 2), ("y", 1024, 512, 2), ("x", 1024, 512, 2))
    frames = random_frames(20, 1024, 1024, np.uint16, seed=1)
    run(s3_settings(s3_server, s3_bucket, "big.zarr", d), frames)
    got = open_zarr(s3_server, s3_bucket, "big.zarr/0")[...]
    np.testing.assert_array_equal(got, frames)

    shards = {k: o for k, o in objects(s3_server, s3_bucket).items() if "/c/" in k}
    assert len(shards) == 3  # 20 frames: two full shards of 8 and one of 4
    parts = {k: re.search(r"-(\d+)\"?$", o["ETag"]) for k, o in shards.items()}
    full = [k for k in shards if not k.startswith("big.zarr/0/c/2/")]
    for k in full:
        assert parts[k] and int(parts[k].group(1)) >= 2, (k, shards[k]["ETag"], shards[k]["Size"])
    uploads = s3_server.client().list_multipart_uploads(Bucket=s3_bucket)
    assert not uploads.get("Uploads"), "multipart uploads left behind"


def test_multiscale_levels_read_back(s3_server, s3_bucket):
    d = dims(("t", 0, 2, 2), ("y", 64, 16, 2), ("x", 48, 16, 2))
    frames = random_frames(6, 64, 48, np.uint8, seed=3)
    s = s3_settings(s3_server, s3_bucket, "ms.zarr", d, dtype=np.uint8, multiscale=True,
                    downsampling_method=aqz.DownsamplingMethod.DECIMATE)
    run(s, frames)
    np.testing.assert_array_equal(open_zarr(s3_server, s3_bucket, "ms.zarr/0")[...], frames)
    level1 = open_zarr(s3_server, s3_bucket, "ms.zarr/1")[...]
    np.testing.assert_array_equal(level1, frames[:, ::2, ::2])
    datasets = get_json(s3_server, s3_bucket, "ms.zarr/zarr.json")["attributes"]["ome"][
        "multiscales"][0]["datasets"]
    assert [ds["path"] for ds in datasets][:2] == ["0", "1"]


def test_output_key_and_custom_metadata_land_under_the_prefix(s3_server, s3_bucket):
    d = dims(("t", 0, 2, 1), ("y", 20, 10, 1), ("x", 20, 10, 1))
    frames = random_frames(4, 20, 20, np.uint16)
    s = s3_settings(s3_server, s3_bucket, "plate.zarr", d, output_key="A/1",
                    custom_metadata='{"operator": "ada"}')
    with aqz.ZarrStream(s) as stream:
        stream.append(frames)
        assert stream.write_custom_metadata('{"note": "x"}') is True
        assert stream.write_custom_metadata('{"note": "y"}') is False
    np.testing.assert_array_equal(open_zarr(s3_server, s3_bucket, "plate.zarr/A/1")[...], frames)
    root = get_json(s3_server, s3_bucket, "plate.zarr/zarr.json")
    assert root["attributes"]["operator"] == "ada"


def test_overwrite_deletes_only_under_the_prefix(s3_server, s3_bucket):
    client = s3_server.client()
    for key in ("exp/run.zarr/old/object", "exp/run.zarr/zarr.json", "exp/run.zarr-other/keep",
                "exp/keep", "elsewhere/keep"):
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    run(s3_settings(s3_server, s3_bucket, "exp/run.zarr", d, overwrite=True),
        random_frames(2, 8, 8, np.uint16))
    keys = set(objects(s3_server, s3_bucket))
    assert "exp/run.zarr/old/object" not in keys
    assert {"exp/run.zarr-other/keep", "exp/keep", "elsewhere/keep"} <= keys
    assert get_json(s3_server, s3_bucket, "exp/run.zarr/zarr.json")["node_type"] == "group"


def test_without_overwrite_other_objects_stay(s3_server, s3_bucket):
    client = s3_server.client()
    client.put_object(Bucket=s3_bucket, Key="run.zarr/notes.txt", Body=b"keep me")
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    run(s3_settings(s3_server, s3_bucket, "run.zarr", d, overwrite=False),
        random_frames(2, 8, 8, np.uint16))
    assert client.get_object(Bucket=s3_bucket, Key="run.zarr/notes.txt")["Body"].read() == b"keep me"


def test_credentials_from_the_shared_file(s3_server, s3_bucket, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    path = tmp_path / "credentials"
    path.write_text(
        "[default]\naws_access_key_id = WRONGKEY\naws_secret_access_key = wrong\n\n"
        f"[lab]\naws_access_key_id = {s3_server.access_key_id}\n"
        f"aws_secret_access_key = {s3_server.secret_access_key}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    monkeypatch.setenv("AWS_PROFILE", "lab")
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    frames = random_frames(2, 8, 8, np.uint16)
    run(s3_settings(s3_server, s3_bucket, "file.zarr", d), frames)
    np.testing.assert_array_equal(open_zarr(s3_server, s3_bucket, "file.zarr/0")[...], frames)

    # The default profile holds a key the server does not know.
    monkeypatch.delenv("AWS_PROFILE")
    with pytest.raises(ValueError, match="credentials were refused"):
        aqz.ZarrStream(s3_settings(s3_server, s3_bucket, "file2.zarr", d))

    # A profile that is not in the file.
    monkeypatch.setenv("AWS_PROFILE", "nope")
    with pytest.raises(ValueError, match="no AWS credentials found.*profile 'nope'"):
        aqz.ZarrStream(s3_settings(s3_server, s3_bucket, "file3.zarr", d))


def test_missing_credentials_are_refused_at_create(s3_server, s3_bucket, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    with pytest.raises(ValueError, match="no AWS credentials found"):
        aqz.ZarrStream(s3_settings(s3_server, s3_bucket, "x.zarr", d))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "only-the-id")
    with pytest.raises(ValueError, match="AWS_SECRET_ACCESS_KEY is not"):
        aqz.ZarrStream(s3_settings(s3_server, s3_bucket, "x.zarr", d))


def test_wrong_secret_is_refused_at_create_and_never_shown(s3_server, s3_bucket, monkeypatch,
                                                           capfd):
    secret = "s3cr3t-that-must-not-leak-0123456789abcdef"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    aqz.set_log_level(aqz.LogLevel.DEBUG)
    try:
        d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
        with pytest.raises(ValueError) as info:
            aqz.ZarrStream(s3_settings(s3_server, s3_bucket, "x.zarr", d))
    finally:
        aqz.set_log_level(aqz.LogLevel.ERROR)
    text = str(info.value)
    assert "credentials were refused" in text and "SignatureDoesNotMatch" in text
    out, err = capfd.readouterr()
    for where in (text, out, err):
        assert secret not in where
        assert s3_server.access_key_id not in where  # not even the key id
    assert not objects(s3_server, s3_bucket)


def test_missing_bucket_is_refused_at_create(s3_server, s3_bucket):
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    with pytest.raises(ValueError, match="s3_settings.bucket_name 'no-such-bucket-here': no such bucket"):
        aqz.ZarrStream(s3_settings(s3_server, "no-such-bucket-here", "x.zarr", d))


def test_unreachable_endpoint_is_an_os_error_at_create(s3_bucket):
    import socket
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    s = settings("unused", d)
    s.store_path = "x.zarr"
    s.s3 = aqz.S3Settings(endpoint=f"http://127.0.0.1:{port}", bucket_name=s3_bucket)
    with pytest.raises(OSError, match=f"s3_settings.endpoint 'http://127.0.0.1:{port}' is not reachable"):
        aqz.ZarrStream(s)


def test_endpoint_without_scheme_means_https(s3_server, s3_bucket):
    host = s3_server.endpoint.removeprefix("http://")
    d = dims(("t", 0, 2, 1), ("y", 8, 8, 1), ("x", 8, 8, 1))
    s = s3_settings(s3_server, s3_bucket, "x.zarr", d)
    s.s3 = aqz.S3Settings(endpoint=host, bucket_name=s3_bucket)
    # The server speaks plain HTTP: a TLS handshake with it fails, and the
    # message shows that https was used.
    with pytest.raises(OSError, match=f"'https://{re.escape(host)}' is not reachable"):
        aqz.ZarrStream(s)
