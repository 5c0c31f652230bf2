"""SigV4: our signer (the sigv4_sign test program) against botocore's
S3SigV4Auth on the same requests, byte for byte.

    python sigv4_vs_botocore.py path/to/sigv4_sign
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import subprocess
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

KEYS = [
    "data.zarr/zarr.json",
    "data.zarr/0/c/0/0/0",
    "run 1/with space/and+plus=equals",
    "odd$chars!*'()@,;:/file~name_-.x",
    "unicode/\u00e9t\u00e9/\u6570\u636e",
    "",
]
QUERIES = [
    {},
    {"uploads": ""},
    {"partNumber": "3", "uploadId": "abc/DEF+ghi=="},
    {"list-type": "2", "prefix": "data.zarr/", "continuation-token": "t o/k+en=", "max-keys": "1"},
    {"delete": ""},
]
BODIES = [b"", b"Welcome to Amazon S3.", bytes(range(256)) * 17]
EXTRA = [
    {},
    {"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==", "Content-Type": "application/xml"},
    {"x-amz-meta-note": "  several   spaces  inside "},
]
REGIONS = ["us-east-1", "eu-central-1"]
TOKENS = [None, "FQoGZXIvYXdzE//session+token="]
WHEN = datetime.datetime(2026, 11, 24, 13, 5, 9)


def botocore_sign(method, host, key, query, body, extra, region, token):
    botocore.auth.get_current_datetime = lambda: WHEN
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    path = "/bucket-name" + ("/" + percent_encode(key, safe="/~") if key else "")
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body,
                         headers=dict(extra), params=dict(query))
    botocore.auth.S3SigV4Auth(creds, "s3", region).add_auth(request)
    return request, creds


def main(tool: str) -> int:
    lines, expected = [], []
    cases = itertools.product(["GET", "PUT", "POST", "HEAD", "DELETE"], KEYS, QUERIES,
                              BODIES, EXTRA, REGIONS, TOKENS)
    for i, (method, key, query, body, extra, region, token) in enumerate(cases):
        if i % 7:  # a spread of the combinations keeps the run short
            continue
        host = "127.0.0.1:9000" if i % 2 else "s3.example.com"
        request, creds = botocore_sign(method, host, key, query, body, extra, region, token)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        headers.setdefault("host", host)
        payload = hashlib.sha256(body).hexdigest()
        assert headers["X-Amz-Content-SHA256"] == payload
        path = "/bucket-name" + ("/" + key if key else "")
        fields = [method, path, "&".join(f"{k}={v}" for k, v in query.items()),
                  "|".join(f"{k}:{v}" for k, v in headers.items()), payload,
                  headers["X-Amz-Date"], region, "s3", creds.access_key, creds.secret_key]
        assert not any("\t" in f or "\n" in f for f in fields)
        lines.append("\t".join(fields))
        expected.append(request.headers["Authorization"])

    result = subprocess.run([tool], input="\n".join(lines) + "\n", capture_output=True,
                            text=True, check=True)
    got = result.stdout.splitlines()
    assert len(got) == len(expected), (len(got), len(expected))
    failures = [(line, e, g) for line, e, g in zip(lines, expected, got) if e != g]
    for line, e, g in failures[:5]:
        print(f"request: {line!r}\n botocore: {e}\n ours:     {g}", file=sys.stderr)
    print(f"{len(expected) - len(failures)} of {len(expected)} signatures match botocore")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
