"""A light HTTP/1.1 transport beneath httpx for the link checker: asyncio protocol + h11.

httpx stays the client (redirects, URL parsing, headers, `httpx.Response`); this module only
replaces httpcore + anyio underneath it. The link checker asks hundreds of servers one HEAD each,
and the answers of a "wave" of requests come back together: the CPU each answer costs is what
the event loop needs to turn a wave around. A HEAD request through httpx costs about 1.3 ms of
CPU over httpcore + anyio + h11, about 0.4 ms over this `asyncio.Protocol` feeding h11 directly
(0.13 ms of which is httpx's client layer; loopback figures, in the commit that added this).

Scope, on purpose: HTTP/1.1 only, requests without a body (HEAD and GET), no proxies (the link
checker lets httpx's own transports handle a proxied environment, see `linkcheck._Checker`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import h11
import httpx

#: Like httpcore: response heads up to 100 KiB (some sites send huge cookies), not h11's 16 KiB.
MAX_HEAD_BYTES = 100 * 1024
#: Unread body bytes a connection buffers before it stops reading from the socket.
MAX_UNREAD_BYTES = 256 * 1024
#: How long `aclose` waits for the sockets it closed to be gone before it gives up on them.
CLOSE_WAIT_SECONDS = 1.0

_DEFAULT_PORTS = {b"http": 80, b"https": 443}
#: Methods asked again on a fresh connection when a reused one turns out closed.
_IDEMPOTENT = frozenset({"GET", "HEAD"})


class _Stale(Exception):
    """A reused keep-alive connection failed before any byte of the answer: ask again."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: the socket's bytes go straight into h11."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.gone: asyncio.Future[None] = loop.create_future()
        self.loop = loop
        self.received = 0  # bytes of the current request's answer
        self.unread = 0  # bytes received since the reader last asked
        self.paused = False
        self.eof = False
        self.lost = False
        self.lost_exc: BaseException | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        self.unread += len(data)
        self.h11.receive_data(data)
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)
        elif self.unread > MAX_UNREAD_BYTES and self.transport is not None and not self.paused:
            # Nobody is reading (a GET body that will be dropped): stop buffering it.
            self.paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self.eof = True
        self.h11.receive_data(b"")
        self._wake()
        return False  # let asyncio close the socket

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = True
        self.lost_exc = exc
        self._wake()
        if not self.gone.done():
            self.gone.set_result(None)

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # used by the transport

    @property
    def reusable(self) -> bool:
        """An idle connection the server has not closed."""
        return not (self.eof or self.lost) and self.transport is not None \
            and not self.transport.is_closing()

    def send(self, request: httpx.Request) -> None:
        """Write the request head (the requests of a link check have no body)."""
        assert self.transport is not None
        if not self.reusable:
            raise httpx.WriteError("the connection was closed")
        self.received = 0
        try:
            head = self.h11.send(h11.Request(method=request.method,
                                             target=request.url.raw_path,
                                             headers=request.headers.raw)) or b""
            end = self.h11.send(h11.EndOfMessage()) or b""  # nothing: there is no body
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc)) from exc
        self.transport.write(head + end if end else head)

    async def next_event(self) -> Any:
        """The next h11 event of the answer, waiting for bytes when h11 needs them."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if self.received == 0:
                    raise httpx.RemoteProtocolError(
                        "the server closed the connection without answering") from exc
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            if self.lost:  # closed without an end of file: reset, or closed by us
                cause = self.lost_exc
                raise httpx.ReadError(str(cause) if cause else "the connection was lost") \
                    from cause
            self.unread = 0
            if self.paused and self.transport is not None:
                self.paused = False
                self.transport.resume_reading()
            waiter = self.waiter = self.loop.create_future()
            await waiter

    def abort(self) -> None:
        """Drop the connection now: its answer is abandoned (error, timeout, unread body)."""
        if self.transport is not None and not self.lost:
            self.transport.abort()


class _Pool:
    """The connections to one origin (scheme, host, port): at most `size` open, idle reused."""

    __slots__ = ("idle", "slots")

    def __init__(self, size: int) -> None:
        # A slot is held by each request from before it takes or opens a connection until its
        # answer is closed. Idle connections hold none: idle + in use never exceeds `size`,
        # because a request opens a connection only when no idle one is left.
        self.slots = asyncio.Semaphore(size)
        self.idle: list[_Connection] = []

    def take_idle(self) -> _Connection | None:
        while self.idle:
            conn = self.idle.pop()  # the most recently used: the least likely to be timed out
            if conn.reusable:
                return conn
            conn.abort()
        return None

    def release(self, conn: _Connection, complete: bool) -> None:
        """The answer on `conn` is closed: keep the connection if h11 says it can go on."""
        try:
            state = conn.h11
            # Bytes beyond the answer (a body sent after a HEAD, say) would be read as the
            # next answer: such a connection is not reused.
            if (complete and conn.reusable and state.our_state is h11.DONE
                    and state.their_state is h11.DONE and not state.trailing_data[0]):
                state.start_next_cycle()
                self.idle.append(conn)
            else:
                conn.abort()
        finally:
            self.slots.release()


class _AnswerBody(httpx.AsyncByteStream):
    """The body of one answer, read from its connection; closing it gives the connection back."""

    def __init__(self, pool: _Pool, conn: _Connection) -> None:
        self.pool = pool
        self.conn = conn
        self.complete = False
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self.complete:
            event = await self.conn.next_event()
            if type(event) is h11.Data:
                yield bytes(event.data)
            elif type(event) is h11.EndOfMessage:
                self.complete = True

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        if not self.complete:
            # The body was not read (a GET of the link checker): never download it. If its
            # end already arrived with the head, though, the connection can still be reused.
            self.complete = self._ended_in_buffer()
        self.pool.release(self.conn, self.complete)

    def _ended_in_buffer(self) -> bool:
        state = self.conn.h11
        try:
            while True:
                event = state.next_event()
                if type(event) is h11.EndOfMessage:
                    return True
                if type(event) is not h11.Data:
                    return False
        except h11.ProtocolError:
            return False


class LinkCheckTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 for httpx over `loop.create_connection` and h11, with keep-alive per origin.

    `tls` builds the SSL context the first time an https URL is met: loading the CA bundle
    costs tens of milliseconds that a run with only http links should not pay.
    """

    def __init__(self, *, max_connections: int, tls: Callable[[], ssl.SSLContext]) -> None:
        self.max_connections = max_connections
        self._tls_factory = tls
        self._tls: ssl.SSLContext | None = None
        self._pools: dict[tuple[bytes, bytes, int], _Pool] = {}
        self._open: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported protocol {url.scheme!r}")
        host = url.raw_host
        if not host:
            raise httpx.UnsupportedProtocol("the address has no host")
        headers = request.headers
        if "transfer-encoding" in headers or headers.get("content-length", "0") != "0":
            raise ValueError("the link-check transport sends requests without a body only")
        port = _DEFAULT_PORTS[scheme] if url.port is None else url.port
        if not 0 < port < 65536:
            # httpx takes any number as a port (a redirect's Location can carry one), and
            # asyncio's connect fails on it with OverflowError or IndexError, not an OSError.
            raise httpx.ConnectError(f"port {port} is out of range (1-65535)")
        key = (scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self.max_connections)
        await pool.slots.acquire()
        try:
            conn = pool.take_idle()
            if conn is not None:
                try:
                    return await self._exchange(pool, conn, request, reused=True)
                except _Stale:
                    pass  # the server closed it while idle: HEAD and GET may be asked again
            conn = await self._connect(key, request)
            return await self._exchange(pool, conn, request, reused=False)
        except BaseException:
            pool.slots.release()
            raise

    async def _connect(self, key: tuple[bytes, bytes, int], request: httpx.Request) -> _Connection:
        scheme, raw_host, port = key
        host = raw_host.decode("ascii")
        loop = asyncio.get_running_loop()
        tls = None
        if scheme == b"https":
            if self._tls is None:
                self._tls = self._tls_factory()
            tls = self._tls
        conn = _Connection(loop)
        timeout = (request.extensions.get("timeout") or {}).get("connect")
        try:
            async with asyncio.timeout(timeout):
                await loop.create_connection(
                    lambda: conn, host, port, ssl=tls,
                    server_hostname=host if tls is not None else None,
                    # What anyio did for httpcore: try the next address (IPv4 after a dead
                    # IPv6 route) if the first has not connected within 250 ms.
                    happy_eyeballs_delay=0.25)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"no connection within {timeout:g} s") from exc
        except OSError as exc:  # refused, DNS (gaierror), TLS (ssl.SSLError) ...
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        self._open.add(conn)
        conn.gone.add_done_callback(lambda _f: self._open.discard(conn))
        return conn

    async def _exchange(self, pool: _Pool, conn: _Connection, request: httpx.Request, *,
                        reused: bool) -> httpx.Response:
        """Send `request` on `conn` and read the answer's head; `conn` is dropped on failure."""
        try:
            conn.send(request)
            while True:
                event = await conn.next_event()
                if type(event) is h11.Response:
                    break
                if type(event) is not h11.InformationalResponse:  # 1xx: the answer follows
                    raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__}")
        except httpx.TransportError as exc:
            conn.abort()
            if reused and conn.received == 0 and request.method in _IDEMPOTENT:
                raise _Stale from exc
            raise
        except BaseException:  # cancelled by the caller's deadline, mostly
            conn.abort()
            raise
        return httpx.Response(
            event.status_code,
            headers=event.headers.raw_items(),
            stream=_AnswerBody(pool, conn),
            extensions={"http_version": b"HTTP/" + event.http_version,
                        "reason_phrase": event.reason},
        )

    async def aclose(self) -> None:
        """Close every connection, and wait (briefly) until their sockets are gone."""
        for pool in self._pools.values():
            pool.idle.clear()
        waiting = [conn.gone for conn in self._open]
        for conn in list(self._open):
            conn.abort()
        if waiting:
            await asyncio.wait(waiting, timeout=CLOSE_WAIT_SECONDS)
