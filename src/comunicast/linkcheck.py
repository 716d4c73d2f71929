"""Do links answer? Asynchronous HEAD (GET fallback) over aiohttp, per-host and global limits, cached.

Results are cached in the ledger's `link_cache` table for a TTL, so that cron runs do not hammer
the Comune's website. Network failures are cached for at most an hour: a transient outage should
not keep a link "broken" for a whole day.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from comunicast import __version__
from comunicast.i18n import _

if TYPE_CHECKING:
    import asyncio
    import ssl

    import aiohttp

    from comunicast.ledger import Ledger
    from comunicast.linkcheck_child import NetworkChild
    from comunicast.state import LedgerLocation

#: Failures (no HTTP status) are trusted from the cache for at most this long.
ERROR_TTL = 3600.0
MAX_REDIRECTS = 10
#: Longest line of an answer's head (aiohttp's default is 8 KiB; some sites send huge cookies).
MAX_HEAD_LINE = 64 * 1024
#: A redirect's body up to this size is read, so that its connection can be reused.
MAX_REDIRECT_BODY = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


#: The project's home page, named in the User-Agent so that a webmaster sees who asks. A
#: constant, not the package metadata: looking that up costs 40-80 ms before the first request.
PROJECT_URL: str | None = None


def user_agent(contact: str | None = None) -> str:
    """A polite User-Agent that names the tool (and whom to contact, when known)."""
    details = ["link checker"]
    if PROJECT_URL:
        details.append(f"+{PROJECT_URL}")
    if contact:
        details.append(f"+{contact}")
    return f"comunicast/{__version__} ({'; '.join(details)})"


@dataclass(frozen=True)
class LinkResult:
    """The outcome of checking one URL."""

    url: str
    status: int | None
    final_url: str | None
    error: str | None
    cached: bool = False

    @property
    def broken(self) -> bool:
        """True on a network failure or an HTTP 4xx/5xx answer."""
        return self.error is not None or self.status is None or self.status >= 400

    @property
    def redirected(self) -> bool:
        """True when the URL answered from another address."""
        return bool(self.final_url) and self.final_url != self.url

    def reason(self) -> str:
        """What went wrong, for a message."""
        if self.error:
            return self.error
        return _("HTTP {status}").format(status=self.status)


def origin(url: str) -> str:
    """`host:port` of a URL: the unit of politeness (one server)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").lower()
    return f"{host}:{port or (443 if parts.scheme == 'https' else 80)}"


def _describe(exc: BaseException, timeout: float) -> str:
    """A short, human reason for a network failure."""
    import socket
    import ssl

    import aiohttp

    if isinstance(exc, TimeoutError):
        return _("no answer within {seconds:g} s (timeout)").format(seconds=timeout)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return _("too many redirects")
    if isinstance(exc, aiohttp.NonHttpUrlClientError):
        return _("not a web address")
    if isinstance(exc, aiohttp.InvalidURL):
        port = _bad_port(str(exc.url))
        if port is not None:
            return _("port {port} is out of range (1-65535)").format(port=port)
        return _("the address cannot be read ({reason})").format(
            reason=exc.description or exc.url)
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        if isinstance(current, aiohttp.ClientConnectorCertificateError):
            cert = current.certificate_error
            return _("TLS certificate not valid: {reason}").format(
                reason=getattr(cert, "verify_message", None) or cert)
        if isinstance(current, aiohttp.ClientConnectorError):
            chain.append(current.os_error)
        current = current.__cause__ or current.__context__
    for item in chain:
        if isinstance(item, ConnectionRefusedError):
            return _("connection refused")
        if isinstance(item, (socket.gaierror, aiohttp.ClientConnectorDNSError)):
            return _("host not found (DNS)")
        if isinstance(item, ssl.SSLCertVerificationError):
            return _("TLS certificate not valid: {reason}").format(
                reason=getattr(item, "verify_message", None) or item)
        if isinstance(item, ssl.SSLError):
            return _("TLS failure: {reason}").format(reason=getattr(item, "reason", None) or item)
    if isinstance(exc, aiohttp.ClientResponseError):  # the answer is not HTTP as we know it
        return _("the server's answer cannot be read: {reason}").format(
            reason=_first_line(exc.message) or exc.status)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return _("the server closed the connection without answering")
    text = " ".join(str(item) for item in chain).lower()
    if "refused" in text:
        return _("connection refused")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _("cannot connect: {reason}").format(
            reason=exc.os_error.strerror or exc.os_error or type(exc).__name__)
    return _("network error: {reason}").format(
        reason=_first_line(str(exc)) or type(exc).__name__)


def _first_line(text: object) -> str:
    """A parser's complaint on one line of at most 120 characters (aiohttp's spans several:
    the reason, the bytes it saw, a caret under the culprit)."""
    lines = [line.strip() for line in str(text).splitlines()
             if line.strip() and set(line.strip()) != {"^"}]
    joined = " ".join(lines[:2])
    return joined if len(joined) <= 120 else joined[:119] + "…"


def _bad_port(url: str) -> str | None:
    """The port of `url` when it is written but out of range (a redirect's Location can say
    anything), else None."""
    import re

    netloc = urlsplit(url).netloc.rpartition("@")[2]
    found = re.search(r"(?<!:):(-?\d+)$", netloc)
    if found and not 0 < int(found.group(1)) < 65536:
        return found.group(1)
    return None


class _Checker:
    """One aiohttp session for the whole run, limits per origin (host:port) and overall.

    aiohttp's connector keeps a keep-alive pool per origin (at most `per_host` connections, and
    `concurrency` in all), parses answers with its C parser and follows redirects to any host
    within one deadline (`ClientTimeout(total=…)` covers every hop). The limits are our own
    semaphores, taken *before* a request starts: aiohttp's timeout runs from the call, so URLs
    queued behind a slow origin inside the connector would time out without being asked.

    Proxies: with HTTP_PROXY/HTTPS_PROXY/ALL_PROXY in the environment the session trusts it
    (`trust_env`: NO_PROXY honoured, https through a CONNECT tunnel). Without one it does not,
    so no request pays for reading the environment and ~/.netrc again.
    """

    def __init__(self, *, timeout: float, per_host: int, concurrency: int, agent: str,
                 progress: Callable[[int, int], None] | None, total: int,
                 ssl_context: ssl.SSLContext | None = None):
        import asyncio

        import aiohttp

        self.timeout = timeout
        self.per_host = per_host
        self.global_limit = asyncio.Semaphore(concurrency)
        self.hosts: dict[str, asyncio.Semaphore] = {}
        self.answered: set[str] = set()  # origins that answered once in this run
        self.progress = progress
        self.total = total
        self.done = 0
        connector = aiohttp.TCPConnector(
            limit=concurrency, limit_per_host=per_host, ssl=ssl_context or _default_tls(),
            ttl_dns_cache=300)
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout),
            headers={"User-Agent": agent, "Accept": "*/*"},
            trust_env=_proxy_in_environment(),
            # Cookies of IP-literal hosts too: a site that sets one and redirects to itself
            # expects it back.
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            auto_decompress=False,  # no body is ever read
            # Like browsers and httpcore: answer heads with large cookies are still answers.
            max_line_size=MAX_HEAD_LINE, max_field_size=MAX_HEAD_LINE,
            middlewares=(_read_redirect_body,),
        )
        self.session._retry_connection = False  # see `_ask`

    def _limit(self, key: str) -> asyncio.Semaphore:
        import asyncio

        found = self.hosts.get(key)
        if found is None:
            found = self.hosts[key] = asyncio.Semaphore(self.per_host)
        return found

    async def close(self) -> None:
        await self.session.close()

    async def check(self, url: str) -> LinkResult:
        try:
            key = origin(url)
            async with self._limit(key), self.global_limit:
                return await self._check(url, key)
        except ValueError as exc:  # bad IPv6 or IDNA host: no request
            return LinkResult(url, None, None, _("the address cannot be read ({reason})").format(
                reason=exc))
        except Exception as exc:  # noqa: BLE001 - one odd server never stops the other links
            return LinkResult(url, None, None, _describe(exc, self.timeout))
        finally:
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)

    async def _check(self, url: str, key: str) -> LinkResult:

        import aiohttp

        try:
            # A HEAD answer has no body: the connection goes back to the pool for reuse.
            async with await self._ask("HEAD", url, key) as response:
                if response.status < 400:
                    return self._result(url, response)
        except (TimeoutError, aiohttp.ClientConnectorError, aiohttp.TooManyRedirects,
                aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            # Asking again with GET would only fail the same way, later.
            return LinkResult(url, None, None, _describe(exc, self.timeout))
        except aiohttp.ClientError:
            pass  # some servers mishandle HEAD: ask again with GET
        # 405/501 (HEAD not allowed) and other HEAD failures: GET tells the truth. Its body is
        # never read: leaving the block closes the connection with the body unread.
        async with await self._ask("GET", url, key) as response:
            return self._result(url, response)

    async def _ask(self, method: str, url: str, key: str) -> aiohttp.ClientResponse:
        """`method` on `url`, redirects followed; asked once more when a kept-alive connection
        turns out closed by the server.

        aiohttp would ask again after *any* hang-up, on a fresh connection too (a server that
        hangs up on every request would be asked four times); its retry is off
        (`_retry_connection`) and this one is kept for origins that have answered before, whose
        idle connections may have timed out on the server's side.
        """
        import aiohttp

        try:
            response = await self.session.request(method, url, allow_redirects=True,
                                                  max_redirects=MAX_REDIRECTS)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            if isinstance(exc, aiohttp.ClientConnectorError) or key not in self.answered:
                raise
            response = await self.session.request(method, url, allow_redirects=True,
                                                  max_redirects=MAX_REDIRECTS)
        self.answered.add(key)
        return response

    @staticmethod
    def _result(url: str, response: aiohttp.ClientResponse) -> LinkResult:
        final = str(response.url)
        return LinkResult(url, response.status, final if response.history else None, None)


async def _read_redirect_body(request: aiohttp.ClientRequest,
                              handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
    """Read the (small) body of a redirect before aiohttp follows it.

    aiohttp leaves it unread, which closes the connection: every redirect (http → https,
    /page → /page/) would cost a new connection. Read, the connection stays in the pool; a body
    cut short makes the answer broken, as it is.
    """
    response = await handler(request)
    if response.status in REDIRECT_STATUSES and response.content_length is not None \
            and response.content_length <= MAX_REDIRECT_BODY:
        await response.read()
    return response


def _default_tls() -> ssl.SSLContext | bool:
    """aiohttp's verifying context (the system's CAs, SSL_CERT_FILE/SSL_CERT_DIR honoured),
    or certifi's CAs on a system that has none (a minimal container, some macOS Pythons)."""
    import ssl

    paths = ssl.get_default_verify_paths()
    if paths.cafile or paths.capath:
        return True  # aiohttp's own context, built when it was imported
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _proxy_in_environment() -> bool:
    """True when the environment names a proxy (what aiohttp reads: urllib's getproxies)."""
    from urllib.request import getproxies

    proxies = getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all", "ws", "wss"))


async def _run(urls: list[str], *, timeout: float, per_host: int, concurrency: int,
               agent: str, progress: Callable[[int, int], None] | None,
               ssl_context: ssl.SSLContext | None = None) -> list[LinkResult]:
    import asyncio

    checker = _Checker(timeout=timeout, per_host=per_host, concurrency=concurrency, agent=agent,
                       progress=progress, total=len(urls), ssl_context=ssl_context)
    try:
        return await asyncio.gather(*(checker.check(u) for u in urls))
    finally:
        await checker.close()


def _cached(ledger: Ledger, urls: list[str], ttl: float) -> dict[str, LinkResult]:
    """Results the ledger holds for `urls` that are still fresh (network failures: one hour)."""
    if ttl <= 0 or not urls:
        return {}
    fresh_errors = time.time() - min(ttl, ERROR_TTL)
    found = {}
    for url, row in ledger.link_cache_get_many(urls, ttl).items():
        if row.get("status") is None and row["checked_at"] < fresh_errors:
            continue
        found[url] = LinkResult(url, row.get("status"), row.get("final_url"), row.get("error"),
                                cached=True)
    return found


def all_cached(urls: Iterable[str], *, ttl: float, ledger_path: LedgerLocation) -> bool:
    """True when every URL has a fresh cached result, so checking them needs no request."""
    from comunicast.ledger import Ledger

    wanted = list(dict.fromkeys(urls))
    if not wanted:
        return True
    ledger = Ledger.open_existing(ledger_path)
    if ledger is None:
        return False
    try:
        return len(_cached(ledger, wanted, ttl)) == len(wanted)
    finally:
        ledger.close()


def check_links(
    urls: Iterable[str],
    *,
    timeout: float = 10.0,
    per_host: int = 4,
    concurrency: int = 40,
    ttl: float = 86400.0,
    ledger_path: LedgerLocation | None = None,
    contact: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    child: NetworkChild | None = None,
) -> dict[str, LinkResult]:
    """Check every distinct URL; cached results younger than `ttl` are reused without a request.

    `on_start(n)` is called with the number of URLs that need a request, before any is made.
    `ssl_context` verifies https servers (default: the system's CAs, as aiohttp and `ssl` load
    them, honouring SSL_CERT_FILE / SSL_CERT_DIR; certifi's where the system has none).
    `child` (comunicast.linkcheck_child) asks the network in its stead when it can; it is
    closed in any case.
    """
    wanted = list(dict.fromkeys(urls))
    results: dict[str, LinkResult] = {}
    ledger = None
    creating: _LedgerCreation | None = None
    if ledger_path is not None and wanted:
        from comunicast.ledger import Ledger

        if ledger_path.exists():
            ledger = Ledger.open(ledger_path)
        else:  # nothing cached yet: the ledger is created while the requests run
            creating = _LedgerCreation(ledger_path)
    try:
        if ledger is not None:
            results.update(_cached(ledger, wanted, ttl))
        todo = [u for u in wanted if u not in results]
        if on_start is not None:
            on_start(len(todo))
        if todo:
            options: dict[str, Any] = {"timeout": timeout, "per_host": per_host, "concurrency": concurrency,
                       "agent": user_agent(contact)}
            fetched = None
            if child is not None and ssl_context is None:
                fetched = child.check(todo, options, progress)
            if fetched is None:
                import asyncio  # only when a request is needed: a cached run stays light

                fetched = asyncio.run(_run(todo, progress=progress, ssl_context=ssl_context,
                                           **options))
            for result in fetched:
                results[result.url] = result
            if creating is not None:
                ledger = creating.result()
                creating = None
            if ledger is not None:
                ledger.link_cache_put_many(
                    (r.url, r.status, r.final_url, r.error) for r in fetched
                )
    finally:
        if child is not None:
            child.close()
        if creating is not None:  # an error before the requests ended: let it finish
            creating.thread.join()
        if ledger is not None:
            ledger.close()
    return results


class _LedgerCreation:
    """A new ledger made in a thread: creating it and its tables waits 20-150 ms on the disk
    (each migration is committed with synchronous=FULL), which the first request need not."""

    def __init__(self, path: LedgerLocation) -> None:
        import threading

        self.path = path
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._create, name="ledger-creation", daemon=True)
        self.thread.start()

    def _create(self) -> None:
        from comunicast.ledger import Ledger

        try:
            Ledger.open(self.path).close()
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread instead
            self.error = exc

    def result(self) -> Ledger:
        """The ledger, opened in the calling thread (its connection belongs there)."""
        from comunicast.ledger import Ledger

        self.thread.join()
        if self.error is not None:
            raise self.error
        return Ledger.open(self.path)


def summary(results: dict[str, LinkResult]) -> dict[str, Any]:
    """Counts for diagnostics: checked, cached, broken."""
    return {
        "checked": sum(1 for r in results.values() if not r.cached),
        "cached": sum(1 for r in results.values() if r.cached),
        "broken": sum(1 for r in results.values() if r.broken),
    }
