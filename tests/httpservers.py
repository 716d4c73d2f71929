"""Real HTTP servers on loopback for the link-check tests (no mocks of httpx).

Routes: /ok 200, /missing 404, /error 500, /away (302 to another host given as `away_to`),
/same (301 to /ok on this host), /slow (answers after `slow_seconds`), /head-405 (HEAD refused,
GET fine), /delay/… (200 after `delay` seconds, for concurrency tests). Every request is recorded.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Record:
    """What the servers saw."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, UA
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self, method: str, path: str, agent: str) -> None:
        with self.lock:
            self.requests.append((method, path, agent))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1


class LoopbackServer:
    """A threaded HTTP/1.1 server on `host`:0 serving the routes above."""

    def __init__(self, host: str = "127.0.0.1", *, record: Record | None = None,
                 slow_seconds: float = 3.0, delay: float = 0.2) -> None:
        self.record = record or Record()
        self.away_to = "http://127.0.0.2:9/"
        self.slow_seconds = slow_seconds
        self.delay = delay
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, method: str) -> None:
                server.record.enter(method, self.path, self.headers.get("User-Agent", ""))
                self._counted = True
                try:
                    self._route(method)
                finally:
                    self._done()

            def _done(self) -> None:
                # Leave before the answer is written: once the client has it, it may rightly
                # start its next request, which must not count as a second one in flight.
                if self._counted:
                    self._counted = False
                    server.record.leave()

            def _route(self, method: str) -> None:
                path = self.path
                if path == "/ok":
                    self._send(200)
                elif path == "/missing":
                    self._send(404)
                elif path == "/error":
                    self._send(500)
                elif path == "/away":
                    self._send(302, location=server.away_to)
                elif path == "/same":
                    self._send(301, location="/ok")
                elif path == "/slow":
                    time.sleep(server.slow_seconds)
                    self._send(200)
                elif path == "/head-405":
                    self._send(405 if method == "HEAD" else 200)
                elif path.startswith("/delay/"):
                    time.sleep(server.delay)
                    self._send(200)
                else:
                    self._send(404)

            def _send(self, status: int, location: str | None = None) -> None:
                self._done()
                body = b"ok\n" if self.command == "GET" else b""
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(3))
                self.end_headers()
                if body:
                    try:
                        self.wfile.write(body)
                    except OSError:
                        pass

            def do_HEAD(self) -> None:
                self._answer("HEAD")

            def do_GET(self) -> None:
                self._answer("GET")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def url(self, path: str) -> str:
        """Absolute http URL of `path` on this server."""
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serving(*hosts: str, **options: float) -> Iterator[list[LoopbackServer]]:
    """Servers on each of `hosts` (sharing one Record), stopped afterwards."""
    record = Record()
    servers = [LoopbackServer(h, record=record, **options).start() for h in hosts]
    try:
        yield servers
    finally:
        for s in servers:
            s.stop()


def refused_url(path: str = "/") -> str:
    """A loopback URL whose port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
