"""The loopback HTTP server the platform fakes share: recording, scripted replies, delivery counts."""

from __future__ import annotations

import base64
import binascii
import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self

Action = Literal["answer", "close", "reset"]


@dataclass(frozen=True)
class Reply:
    """How the fake answers one request.

    `status`/`json`/`body`/`headers` make the answer (`json=None` and `body=None`: the platform's
    own success or error body for `status`). `delay` seconds pass after the request was read and
    before answering (a client with a shorter read timeout gives up: the request *was* received).
    `action`: `answer`, `close` (hang up without answering) or `reset` (TCP RST). `deliver`: does
    the platform publish the message? Default: for a 2xx answer, and for `close`/`reset`/a slow
    answer of a 2xx (the platform took it, the client never heard back). `retry_after`: on 429,
    the platform's way of saying how long to wait (header, or Telegram's JSON parameter).
    """

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    action: Action = "answer"
    deliver: bool | None = None
    retry_after: float | None = None

    @classmethod
    def ok(cls, delay: float = 0.0) -> Reply:
        """Success (the platform's usual 2xx), optionally after `delay` seconds."""
        return cls(status=0, delay=delay)

    @classmethod
    def error(
        cls,
        status: int,
        description: str = "",
        *,
        retry_after: float | None = None,
        deliver: bool = False,
    ) -> Reply:
        """An error answer in the platform's own format (not a delivery unless `deliver`)."""
        return cls(
            status=status,
            json=None,
            deliver=deliver,
            retry_after=retry_after,
            headers={"X-Fake-Description": description} if description else {},
        )

    @classmethod
    def rate_limited(cls, seconds: float) -> Reply:
        """429 with the platform's way of saying `retry after seconds`."""
        return cls.error(429, f"Too Many Requests: retry after {seconds:g}", retry_after=seconds)

    @classmethod
    def slow(cls, seconds: float, *, deliver: bool = True) -> Reply:
        """Take the message (by default), then answer success only after `seconds`."""
        return cls(status=0, delay=seconds, deliver=deliver)

    @classmethod
    def hang_up(cls, *, deliver: bool = True) -> Reply:
        """Read the request, then close the connection without answering."""
        return cls(status=0, action="close", deliver=deliver)

    @classmethod
    def reset(cls, *, deliver: bool = True) -> Reply:
        """Read the request, then reset the connection (TCP RST)."""
        return cls(status=0, action="reset", deliver=deliver)

    @classmethod
    def raw(cls, status: int, body: bytes, *, deliver: bool | None = None) -> Reply:
        """Answer exactly `body` (e.g. an unparseable success body)."""
        return cls(status=status, body=body, deliver=deliver)


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    status: int | None = None

    def header(self, name: str) -> str | None:
        """A request header, case-insensitively."""
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Delivery:
    """A message the fake platform published: its dedup key, remote id and request."""

    key: str
    remote_id: str
    request: Recorded


@dataclass(frozen=True)
class Rejection:
    """The platform refuses a request it cannot accept (validation, auth, routing)."""

    status: int
    json: Any
    problems: list[str]


class FakeServer:
    """A threaded HTTP/1.1 server on 127.0.0.1:0 playing a platform; subclasses add the platform."""

    #: Status of the platform's success answer.
    success_status = 200

    def __init__(self, *, delay: float = 0.0, port: int = 0) -> None:
        self.delay = delay
        self.default = Reply.ok()
        self._port = port
        self._lock = threading.RLock()
        self._script: list[Reply] = []
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[Recorded] = []
        self.deliveries: list[Delivery] = []

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on 127.0.0.1 (a free port unless one was given) in a daemon thread."""
        fake = self

        class Handler(_Handler):
            server_fake = fake

        httpd = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering; slow replies in flight are cut short."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on."""
        assert self._httpd is not None, "start() the fake first"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321."""
        return f"http://127.0.0.1:{self.port}"

    # -- scripting --------------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with `replies`, in order; then `default` again."""
        with self._lock:
            self._script.extend(replies)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._script.pop(0) if self._script else self.default

    # -- what happened ----------------------------------------------------------------------------

    @property
    def problems(self) -> list[str]:
        """Every validation problem found in any request (empty when all were well formed)."""
        with self._lock:
            return [p for r in self.requests for p in r.problems]

    @property
    def delivered(self) -> int:
        """How many messages the platform published."""
        with self._lock:
            return len(self.deliveries)

    def counts(self) -> Counter[str]:
        """Deliveries per key (the text for WAHA and Telegram, the Idempotency-Key for webhooks)."""
        with self._lock:
            return Counter(d.key for d in self.deliveries)

    def duplicates(self) -> dict[str, int]:
        """Keys delivered more than once: must stay empty."""
        return {k: n for k, n in self.counts().items() if n > 1}

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> bool:
        """Wait until at least `n` requests arrived."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if len(self.requests) >= n:
                    return True
            time.sleep(0.01)
        return False

    def clear(self) -> None:
        """Forget requests, deliveries and the script."""
        with self._lock:
            self.requests.clear()
            self.deliveries.clear()
            self._script.clear()

    # -- platform hooks (subclasses) --------------------------------------------------------------

    def check(self, request: Recorded) -> Rejection | None:
        """Validate and authenticate `request`; a Rejection is answered instead of the script."""
        return None

    def accept(self, request: Recorded, number: int) -> tuple[str, str, Any]:
        """Publish: (dedup key, remote id, success JSON body)."""
        return (request.body.decode("utf-8", "replace"), str(number), {"id": str(number)})

    def error_json(self, status: int, description: str, retry_after: float | None) -> Any:
        """The platform's error body."""
        return {"statusCode": status, "message": description or f"HTTP {status}"}

    def error_headers(self, status: int, retry_after: float | None) -> dict[str, str]:
        """Headers of an error answer (Retry-After by default)."""
        return {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}

    def replay(self, request: Recorded) -> Delivery | None:
        """A delivery this request repeats (idempotency), answered again without publishing."""
        return None

    def is_correction(self, request: Recorded) -> bool:
        """True for a request that edits or deletes a published message (SPEC §10)."""
        return False

    def apply(self, request: Recorded) -> tuple[int, Any]:
        """Carry out an edit or deletion: (status, JSON body), as the platform answers it."""
        raise NotImplementedError

    @property
    def corrections(self) -> list[Recorded]:
        """The edit and deletion requests received (whatever the answer)."""
        with self._lock:
            return [r for r in self.requests if self.is_correction(r)]

    # -- the request cycle ------------------------------------------------------------------------

    def _handle(self, request: Recorded) -> tuple[Reply, int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(request)
        rejection = self.check(request)
        if rejection is not None:
            request.problems.extend(rejection.problems)
            request.status = rejection.status
            return Reply(), rejection.status, {}, _dump(rejection.json)
        reply = self._next_reply()
        status = reply.status or self.success_status
        deliver = reply.deliver if reply.deliver is not None else 200 <= status < 300
        success: Any = None
        if self.is_correction(request):
            # An edit or a deletion (SPEC §10): applied to a published message, never a delivery.
            applied = 0
            if deliver:
                with self._lock:
                    applied, success = self.apply(request)
                if not reply.status:
                    status = applied
            request.status = status
            headers = dict(reply.headers)
            description = headers.pop("X-Fake-Description", "")
            if reply.body is not None:
                body = reply.body
            elif reply.json is not None:
                body = _dump(reply.json)
            elif success is not None and status == applied:
                body = _dump(success)
            else:
                body = _dump(self.error_json(status, description, reply.retry_after))
                headers = {**self.error_headers(status, reply.retry_after), **headers}
            return reply, status, headers, body
        if deliver:
            with self._lock:
                earlier = self.replay(request)
                if earlier is not None:
                    success = self.accept_again(earlier)
                else:
                    number = len(self.deliveries) + 1
                    key, remote_id, success = self.accept(request, number)
                    self.deliveries.append(Delivery(key, remote_id, request))
        request.status = status
        headers = dict(reply.headers)
        description = headers.pop("X-Fake-Description", "")
        if reply.body is not None:
            body = reply.body
        elif reply.json is not None:
            body = _dump(reply.json)
        elif 200 <= status < 300:
            body = _dump(success if success is not None else self.accept(request, 0)[2])
        else:
            body = _dump(self.error_json(status, description, reply.retry_after))
            headers = {**self.error_headers(status, reply.retry_after), **headers}
        return reply, status, headers, body

    def accept_again(self, earlier: Delivery) -> Any:
        """The success body for a replayed delivery."""
        return {"id": earlier.remote_id}

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY every keep-alive answer waits ~40 ms for the delayed ACK.
    disable_nagle_algorithm = True
    server_fake: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `requests` instead."""

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            pass  # the client went away (killed, timed out): nothing to answer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        fake = self.server_fake
        request = Recorded(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
            received_at=time.time(),
        )
        reply, status, headers, body = fake._handle(request)
        fake._wait(fake.delay + reply.delay)
        if reply.action == "close":
            self.close_connection = True
            return
        if reply.action == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def replace_reply(reply: Reply, **changes: Any) -> Reply:
    """A copy of `reply` with `changes` (dataclasses.replace, re-exported for convenience)."""
    return replace(reply, **changes)


def decode_image(data: Any) -> tuple[bytes | None, str | None]:
    """Base64 `data` decoded and its image type by content ("image/jpeg", "image/png" or None);
    (None, None) when it is not base64."""
    try:
        raw = base64.b64decode(str(data), validate=True)
    except (binascii.Error, ValueError):
        return None, None
    if raw.startswith(b"\xff\xd8\xff"):
        return raw, "image/jpeg"
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return raw, "image/png"
    return raw, None
