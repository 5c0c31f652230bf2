"""A real S3 server on loopback for the tests: moto's server in a child
process, with request signatures checked.

moto accepts unsigned requests only for its first INITIAL_NO_AUTH_ACTION_COUNT
actions. We spend exactly those on creating an IAM user with an
allow-everything policy and an access key; from then on every request must be
signed with that key (a wrong secret is refused with SignatureDoesNotMatch).

Used by the pytest fixtures (tests/python/conftest.py) and, as a command
(`python s3server.py [--check-example] -- CMD...`), to run a C/C++ program
against a fresh server: CMD sees ACQUIRE_ZARR_TEST_S3_ENDPOINT, ..._BUCKET and
the AWS_* credential variables in its environment, and "{endpoint}" and
"{bucket}" in its arguments are replaced by those values. --check-example
then reads examples/stream_s3.c's store back with zarr-python.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# create_user, put_user_policy, create_access_key
_SETUP_ACTIONS = 3

_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class S3Server:
    process: subprocess.Popen
    endpoint: str
    access_key_id: str
    secret_access_key: str
    region: str = "us-east-1"

    def client(self, service: str = "s3", secret: str | None = None):
        import boto3
        from botocore.config import Config

        return boto3.client(
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

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(log_path: Path | None = None) -> S3Server:
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(_SETUP_ACTIONS))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    moto = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto) if moto.exists() else "moto_server", "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=out, stderr=subprocess.STDOUT)
    if log_path:
        out.close()  # the child has its own descriptor
    deadline = time.monotonic() + 60
    while True:
        try:
            # moto's own dashboard path: not an AWS action, does not count.
            urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto_server did not start on port {port}")
            time.sleep(0.1)

    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="setup", aws_secret_access_key="setup")
    iam.create_user(UserName="acquire-zarr-tests")
    iam.put_user_policy(UserName="acquire-zarr-tests", PolicyName="all",
                        PolicyDocument=_POLICY)
    key = iam.create_access_key(UserName="acquire-zarr-tests")["AccessKey"]
    return S3Server(process, endpoint, key["AccessKeyId"], key["SecretAccessKey"])


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
                   ACQUIRE_ZARR_TEST_S3_REGION=server.region)
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
