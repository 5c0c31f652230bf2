"""What the local S3 server sustains, measured by a client that is not the
limit: curl (C, libcurl) PUTting objects the size of one shard in parallel,
SigV4-signed (`--aws-sigv4`). run.py reports it beside s3-v3.

    python benchmarks/s3_ceiling.py  (starts its own SeaweedFS; prints GiB/s)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def ceiling(endpoint: str, bucket: str, access_key: str, secret_key: str,
            object_bytes: int, objects: int = 32, parallel: int = 4,
            region: str = "us-east-1") -> float:
    """GiB/s of `objects` PutObjects of `object_bytes` each, `parallel` at
    a time, from curl. The body is incompressible (random), like a shard."""
    if not shutil.which("curl"):
        raise RuntimeError("curl is needed to measure the S3 server's ceiling")
    with tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "object"
        body.write_bytes(os.urandom(object_bytes))
        config = Path(tmp) / "curl.cfg"
        # One config entry per upload ("next" separates them, and each needs
        # its own credentials); the key is passed in the config, not on the
        # command line where other users could read it.
        entries = [[f'upload-file = "{body}"', f'url = "{endpoint}/{bucket}/ceiling/{i}"',
                    "fail", 'output = "/dev/null"', f'user = "{access_key}:{secret_key}"',
                    f'aws-sigv4 = "aws:amz:{region}:s3"'] for i in range(objects)]
        config.write_text("\nnext\n".join("\n".join(e) for e in entries) + "\n")
        started = time.perf_counter()
        done = subprocess.run(["curl", "--silent", "--show-error", "--parallel",
                               "--parallel-max", str(parallel), "--config", str(config)],
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"curl failed: {done.stderr.strip()[:500]}")
    return objects * object_bytes / elapsed / 2**30


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "s3"))
    import s3server
    server = s3server.start()
    try:
        server.client().create_bucket(Bucket="ceiling")
        shard = 32 * 256 * 256 * 8 * 8 * 2 // 2  # an lz4-v3 shard at ratio ~2
        for parallel in (1, 2, 4, 8):
            gib = ceiling(server.endpoint, "ceiling", server.access_key_id,
                          server.secret_access_key, shard, objects=16, parallel=parallel)
            print(f"{parallel} in flight: {gib:.3f} GiB/s ({shard / 2**20:.0f} MiB objects)")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
