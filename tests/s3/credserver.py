"""A fake AWS credentials endpoint on loopback for the credential tests: it
plays STS (AssumeRoleWithWebIdentity, under /sts/), the container credentials
endpoint (/container/credentials) and EC2 instance metadata IMDSv2 (under
/imds/), checking what a real one checks: the web identity token and role,
the Authorization header, the IMDSv2 session token and its TTL header.

Tests configure it and read what it saw through /_ctl/config (POST, a JSON
object merged into the settings below; the counters restart) and
/_ctl/stats (GET).

As a command:
  python credserver.py --serve          prints its URL on a line, serves until killed
  python credserver.py -- CMD...        runs CMD with ACQUIRE_ZARR_TEST_CRED_SERVER
                                        set to its URL; exits with CMD's status
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULTS = {
    "access_key_id": "AKIDFAKECREDENTIALS",
    "secret_access_key": "fake-secret-access-key",
    "session_token": "fake-session-token",
    "numbered": True,          # key id, secret and token end in "-N", N counting issues
    "lifetime": 3600,          # seconds until Expiration; None: no Expiration (container)
    "role_arn": "arn:aws:iam::123456789012:role/acquire-test",
    "web_identity_token": "fake-web-identity-token",
    "container_authorization": None,  # the Authorization header required, if any
    "imds_role": "acquire-test-role",
    "fail": {},                # {"sts"|"container"|"imds": HTTP status} to answer instead
    "delay": 0,                # seconds the container endpoint takes to answer
}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset({})

    def reset(self, settings: dict) -> None:
        with self.lock:
            self.settings = {**DEFAULTS, **settings}
            self.stats = {"sts": 0, "container": 0, "imds_token": 0, "imds_list": 0,
                          "imds_credentials": 0, "issued": 0, "refused": 0,
                          "session_names": []}
            self.imds_tokens: set[str] = set()

    def issue(self) -> dict:
        """The next credentials, as the container endpoint and IMDS write them."""
        s = self.settings
        self.stats["issued"] += 1
        suffix = f"-{self.stats['issued']}" if s["numbered"] else ""
        out = {"AccessKeyId": s["access_key_id"] + suffix,
               "SecretAccessKey": s["secret_access_key"] + suffix}
        if s["session_token"]:
            out["Token"] = s["session_token"] + suffix
        if s["lifetime"] is not None:
            at = (datetime.datetime.now(datetime.timezone.utc) +
                  datetime.timedelta(seconds=s["lifetime"]))
            out["Expiration"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State  # set on the subclass made by serve()

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: str | bytes, ctype: str = "text/plain") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _refuse(self, status: int, body: str = "refused") -> None:
        with self.state.lock:
            self.state.stats["refused"] += 1
        self._send(status, body)

    def do_GET(self):
        st = self.state
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_ctl/stats":
            with st.lock:
                return self._send(200, json.dumps(st.stats), "application/json")
        if path == "/container/credentials":
            return self._container()
        imds = "/imds/latest/meta-data/iam/security-credentials/"
        if path.startswith(imds):
            if self.headers.get("X-aws-ec2-metadata-token") not in st.imds_tokens:
                return self._refuse(401)
            role = path[len(imds):]
            with st.lock:
                if not role:
                    st.stats["imds_list"] += 1
                    return self._send(200, st.settings["imds_role"] + "\n")
                st.stats["imds_credentials"] += 1
                if role != st.settings["imds_role"]:
                    return self._send(404, "no such role")
                if "imds" in st.settings["fail"]:
                    return self._send(st.settings["fail"]["imds"], "failing on purpose")
                doc = {"Code": "Success", "Type": "AWS-HMAC", **st.issue()}
            return self._send(200, json.dumps(doc), "application/json")
        self._send(404, "not found")

    def _container(self):
        st = self.state
        with st.lock:
            st.stats["container"] += 1
            expected = st.settings["container_authorization"]
            failing = st.settings["fail"].get("container")
            delay = st.settings["delay"]
        time.sleep(delay)
        if expected is not None and self.headers.get("Authorization") != expected:
            return self._refuse(401, json.dumps({"code": "Unauthorized",
                                                 "message": "bad authorization token"}))
        if failing:
            return self._send(failing, "failing on purpose")
        with st.lock:
            doc = st.issue()
        self._send(200, json.dumps(doc), "application/json")

    def do_PUT(self):
        st = self.state
        self._body()
        if self.path != "/imds/latest/api/token":
            return self._send(404, "not found")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self._refuse(400, "missing or bad X-aws-ec2-metadata-token-ttl-seconds")
        token = secrets.token_urlsafe(24)
        with st.lock:
            st.stats["imds_token"] += 1
            st.imds_tokens.add(token)
        self._send(200, token)

    def do_POST(self):
        st = self.state
        body = self._body()
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_ctl/config":
            st.reset(json.loads(body or b"{}"))
            return self._send(200, "ok")
        if path in ("/sts", "/sts/"):
            return self._sts(urllib.parse.parse_qs(body.decode()))
        self._send(404, "not found")

    def _sts(self, form: dict):
        st = self.state
        one = {k: v[0] for k, v in form.items()}
        with st.lock:
            st.stats["sts"] += 1
            st.stats["session_names"].append(one.get("RoleSessionName", ""))
            s = st.settings
            problem = None
            if one.get("Action") != "AssumeRoleWithWebIdentity" or "Version" not in one:
                problem = ("InvalidAction", "not AssumeRoleWithWebIdentity")
            elif one.get("RoleArn") != s["role_arn"]:
                problem = ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
            elif one.get("WebIdentityToken") != s["web_identity_token"]:
                problem = ("InvalidIdentityToken", "Couldn't retrieve verification key")
            elif "sts" in s["fail"]:
                problem = ("ServiceUnavailable", "failing on purpose")
            if problem is None:
                c = st.issue()
        if problem is not None:
            st.stats["refused"] += 1
            status = s["fail"].get("sts", 400) if problem[0] == "ServiceUnavailable" else 400
            if problem[0] == "AccessDenied":
                status = 403
            return self._send(status, (
                "<ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{problem[0]}</Code><Message>{problem[1]}</Message>"
                "</Error></ErrorResponse>"), "text/xml")
        xml = ("<AssumeRoleWithWebIdentityResponse "
               "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
               "<AssumeRoleWithWebIdentityResult><Credentials>"
               f"<SessionToken>{c.get('Token', '')}</SessionToken>"
               f"<SecretAccessKey>{c['SecretAccessKey']}</SecretAccessKey>"
               f"<Expiration>{c.get('Expiration', '')}</Expiration>"
               f"<AccessKeyId>{c['AccessKeyId']}</AccessKeyId>"
               "</Credentials></AssumeRoleWithWebIdentityResult>"
               "</AssumeRoleWithWebIdentityResponse>")
        self._send(200, xml, "text/xml")


def serve() -> tuple[ThreadingHTTPServer, str]:
    """A server on a free loopback port, serving on a daemon thread."""
    handler = type("BoundHandler", (Handler,), {"state": State()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main(argv: list[str]) -> int:
    server, url = serve()
    if argv[:1] == ["--serve"]:
        print(url, flush=True)
        threading.Event().wait()
    if argv[:1] != ["--"] or len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    env = {**os.environ, "ACQUIRE_ZARR_TEST_CRED_SERVER": url}
    try:
        return subprocess.call(argv[1:], env=env)
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
