"""An HTTP proxy on loopback that sits in front of the S3 server and injects
faults: dropped connections, delays, and 500/503/429 answers, on a fraction
of the requests (seeded, so a run is repeatable) or on the requests a rule
selects. The request is forwarded unchanged (the Host header too, so SigV4
signatures still verify) unless a fault stops it first.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional
from urllib.parse import urlsplit

FAULTS = ("drop", "500", "503", "429", "delay")

_ERROR_BODY = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
               "<Message>injected by the test proxy</Message></Error>")
_CODES = {"500": "InternalError", "503": "SlowDown", "429": "SlowDown"}


@dataclass
class Counters:
    requests: int = 0
    forwarded: int = 0
    injected: dict = field(default_factory=lambda: {f: 0 for f in FAULTS})


class FaultProxy:
    """`rate`: fraction of requests that get a random fault from `faults`.
    `rule(method, path) -> fault or None` picks a fault deterministically
    (checked first). Both can be changed while the proxy runs."""

    def __init__(self, upstream: str, rate: float = 0.0, faults=FAULTS, seed: int = 0,
                 rule: Optional[Callable[[str, str], Optional[str]]] = None,
                 delay: float = 0.3):
        target = urlsplit(upstream)
        self.upstream = (target.hostname, target.port)
        self.rate, self.faults, self.rule, self.delay = rate, tuple(faults), rule, delay
        self.counters = Counters()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._choose(self.command, self.path)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault in _CODES:
                    payload = _ERROR_BODY.format(code=_CODES[fault]).encode()
                    self.send_response(int(fault))
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                if fault == "delay":
                    time.sleep(proxy.delay)
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for k, v in reply.getheaders():
                    if k.lower() not in ("connection", "keep-alive", "transfer-encoding",
                                         "content-length", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()
                with proxy._lock:
                    proxy.counters.forwarded += 1

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _choose(self, method: str, path: str) -> Optional[str]:
        with self._lock:
            self.counters.requests += 1
            fault = self.rule(method, path) if self.rule else None
            if fault is None and self.rate and self._random.random() < self.rate:
                fault = self._random.choice(self.faults)
            if fault:
                self.counters.injected[fault] += 1
            return fault

    def injected(self) -> int:
        with self._lock:
            return sum(self.counters.injected.values())

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
