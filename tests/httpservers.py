"""Real HTTP servers on loopback for the link-check tests (no mocks of httpx).

Routes: /ok 200, /missing 404, /error 500, /away (302 to another host given as `away_to`),
/same (301 to /ok on this host), /slow (answers after `slow_seconds`), /head-405 (HEAD refused,
GET fine), /delay/… (200 after `delay` seconds, for concurrency tests). Every request is recorded,
and so is every accepted connection. A request in absolute form (`GET http://host/ok`, what a
client sends to a proxy) is routed by its path and recorded as sent. `tls=` serves https, a host
with a colon serves IPv6.

`RawServer` plays servers that misbehave byte by byte (one scripted function per connection).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Record:
    """What the servers saw."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, UA
    in_flight: int = 0
    max_in_flight: int = 0
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connected(self) -> None:
        with self.lock:
            self.connections += 1

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
                 slow_seconds: float = 3.0, delay: float = 0.2,
                 tls: ssl.SSLContext | None = None) -> None:
        self.record = record or Record()
        self.away_to = "http://127.0.0.2:9/"
        self.slow_seconds = slow_seconds
        self.delay = delay
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                server.record.connected()
                super().setup()

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
                if "://" in path:  # absolute form: we are a proxy
                    path = "/" + path.split("://", 1)[1].partition("/")[2]
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

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

            def finish_request(self, request: Any, client_address: Any) -> None:
                if tls is None:
                    super().finish_request(request, client_address)
                    return
                try:  # the handshake runs in the connection's thread
                    secure = tls.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate: what some tests expect
                with secure:  # the server closes the plain socket only, now detached
                    super().finish_request(secure, client_address)

        self.httpd = Server((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.scheme = "https" if tls is not None else "http"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def url(self, path: str) -> str:
        """Absolute http URL of `path` on this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{path}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serving(*hosts: str, **options: Any) -> Iterator[list[LoopbackServer]]:
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


class RawServer:
    """A TCP server on 127.0.0.1:0 that runs `script(sock, n)` for its n-th connection (from 0).

    Each connection has its own thread; its socket is closed when the script returns. The count
    of accepted connections is `connections`.
    """

    def __init__(self, script: Callable[[socket.socket, int], None]) -> None:
        self.script = script
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.threads: list[threading.Thread] = []
        self.errors: list[AssertionError] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)

    def url(self, path: str) -> str:
        """Absolute http URL of `path` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                sock, _addr = self.listener.accept()
            except OSError:
                return  # closed by stop()
            n, self.connections = self.connections, self.connections + 1
            thread = threading.Thread(target=self._run, args=(sock, n), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _run(self, sock: socket.socket, n: int) -> None:
        with sock:
            try:
                self.script(sock, n)
            except OSError:
                pass  # the client went away: some scripts expect it
            except AssertionError as exc:  # the test reports it, from its own thread
                self.errors.append(exc)

    def __enter__(self) -> Self:
        self.acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        for thread in self.threads:
            thread.join(5)


def read_request(sock: socket.socket) -> bytes:
    """Read one request head (no body) from `sock`; b"" when the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data


OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\n"


class TunnelProxy:
    """An HTTP proxy on 127.0.0.1:0 that only tunnels (`CONNECT host:port`), as https needs.

    Every CONNECT target is recorded in `targets`; the bytes are piped both ways unread, so the
    TLS session is between the client and the origin.
    """

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.raw = RawServer(self._tunnel)
        self.port = self.raw.port

    def url(self) -> str:
        """The proxy's address, as HTTPS_PROXY names it."""
        return f"http://127.0.0.1:{self.port}"

    def _tunnel(self, sock: socket.socket, n: int) -> None:
        head = read_request(sock)
        method, target, _rest = head.split(b" ", 2)
        if method != b"CONNECT":
            sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        self.targets.append(target.decode("ascii"))
        host, _colon, port = target.decode("ascii").rpartition(":")
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5) as upstream:
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            pipe = threading.Thread(target=_pipe, args=(upstream, sock), daemon=True)
            pipe.start()
            _pipe(sock, upstream)
            pipe.join(5)

    def __enter__(self) -> Self:
        self.raw.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.__exit__(*exc)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass
