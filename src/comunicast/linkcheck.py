"""Do links answer? Asynchronous HEAD (GET fallback) with per-host and global limits, cached.

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

    import httpx

    from comunicast.ledger import Ledger
    from comunicast.state import LedgerLocation

#: Failures (no HTTP status) are trusted from the cache for at most this long.
ERROR_TTL = 3600.0
MAX_REDIRECTS = 10


def user_agent(contact: str | None = None) -> str:
    """A polite User-Agent that names the tool (and whom to contact, when known)."""
    from importlib.metadata import PackageNotFoundError, metadata

    url = None
    try:
        for entry in metadata("comunicast").get_all("Project-URL") or []:
            url = entry.split(",", 1)[1].strip()
            break
    except PackageNotFoundError:
        pass
    details = ["link checker"]
    if url:
        details.append(f"+{url}")
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
    import asyncio
    import socket
    import ssl

    import httpx

    if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError, TimeoutError)):
        return _("no answer within {seconds:g} s (timeout)").format(seconds=timeout)
    if isinstance(exc, httpx.TooManyRedirects):
        return _("too many redirects")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return _("not a web address")
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for item in chain:
        if isinstance(item, ConnectionRefusedError):
            return _("connection refused")
        if isinstance(item, socket.gaierror):
            return _("host not found (DNS)")
        if isinstance(item, ssl.SSLCertVerificationError):
            return _("TLS certificate not valid: {reason}").format(
                reason=getattr(item, "verify_message", None) or item)
        if isinstance(item, ssl.SSLError):
            return _("TLS failure: {reason}").format(reason=getattr(item, "reason", None) or item)
    text = " ".join(str(item) for item in chain).lower()
    if any(s in text for s in ("name or service not known", "nodename nor servname",
                               "no address associated", "temporary failure in name resolution",
                               "getaddrinfo failed", "name resolution")):
        return _("host not found (DNS)")
    if "certificate" in text or "ssl" in text or "tls" in text:
        return _("TLS failure: {reason}").format(reason=exc)
    if "refused" in text:
        return _("connection refused")
    if isinstance(exc, httpx.ConnectError):
        return _("cannot connect: {reason}").format(reason=exc or type(exc).__name__)
    return _("network error: {reason}").format(reason=str(exc) or type(exc).__name__)


class _Checker:
    """One httpx client per origin (host:port), limits per origin and overall.

    The clients share one `LinkCheckTransport` (asyncio + h11 beneath httpx, a keep-alive pool
    of at most `per_host` connections per origin, redirects to another origin included): it costs
    a fraction of httpcore's CPU per request, and the answers of a wave of requests come back
    together. A client per origin keeps each site's cookies with it (a cookie jar is scanned
    whole at every request).

    Proxies: httpx reads HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY only when it builds its own
    transports (`trust_env` is ignored once `transport=` is given). When the environment names
    a proxy — a municipality's office is often behind one — the checker gives our transport up
    and lets httpx build its own (httpcore, proxy mounts, NO_PROXY) exactly as before.

    The TLS context is built when the first https URL is met (loading the CA bundle costs tens
    of milliseconds), unless one is given (a test CA).
    """

    def __init__(self, *, timeout: float, per_host: int, concurrency: int, agent: str,
                 progress: Callable[[int, int], None] | None, total: int,
                 ssl_context: ssl.SSLContext | None = None):
        import asyncio

        self.timeout = timeout
        self.per_host = per_host
        self.agent = agent
        self._ssl_context = ssl_context
        self.global_limit = asyncio.Semaphore(concurrency)
        self.hosts: dict[str, tuple[asyncio.Semaphore, httpx.AsyncClient]] = {}
        self.progress = progress
        self.total = total
        self.done = 0
        self.transport: httpx.AsyncBaseTransport | None = None
        if not _proxy_in_environment():
            from comunicast.linkcheck_transport import LinkCheckTransport

            self.transport = LinkCheckTransport(max_connections=per_host, tls=self._tls)
        else:
            _skip_missing_sniffio()

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            import httpx

            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    def _host(self, url: str) -> tuple[asyncio.Semaphore, httpx.AsyncClient]:
        import asyncio

        import httpx

        key = origin(url)
        found = self.hosts.get(key)
        if found is None:
            options: dict[str, Any] = {"transport": self.transport}
            if self.transport is None:  # a proxy: httpx's own transports, as httpx builds them
                options = {"verify": self._tls(),
                           "limits": httpx.Limits(max_connections=self.per_host,
                                                  max_keepalive_connections=self.per_host)}
            client = httpx.AsyncClient(
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=httpx.Timeout(self.timeout),
                headers={"User-Agent": self.agent, "Accept": "*/*"},
                **options,
            )
            found = self.hosts[key] = (asyncio.Semaphore(self.per_host), client)
        return found

    async def close(self) -> None:
        for _limit, client in self.hosts.values():
            await client.aclose()  # closes the shared transport too (closing it twice is fine)
        if self.transport is not None:
            await self.transport.aclose()  # a run whose URLs could not be read made no client

    async def check(self, url: str) -> LinkResult:
        import httpx

        try:
            limit, client = self._host(url)
            async with limit, self.global_limit:
                return await self._check(client, url)
        except (httpx.InvalidURL, ValueError) as exc:  # bad IPv6 or IDNA host: no request
            return LinkResult(url, None, None, _("the address cannot be read ({reason})").format(
                reason=exc))
        except Exception as exc:  # noqa: BLE001 - one odd server never stops the other links
            # e.g. httpx's own transport (behind a proxy) failing on a redirect to port 70000
            return LinkResult(url, None, None, _describe(exc, self.timeout))
        finally:
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)

    async def _request(self, client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
        import asyncio

        # One deadline for the whole exchange, redirects included: httpx's timeouts are per
        # operation, and a server trickling bytes would otherwise never time out.
        async with asyncio.timeout(self.timeout):
            if method == "HEAD":
                # A HEAD answer has no body: a plain request keeps the connection for reuse.
                return await client.request("HEAD", url)
            async with client.stream(method, url) as response:
                return response  # the body of a GET is never downloaded

    async def _check(self, client: httpx.AsyncClient, url: str) -> LinkResult:
        import httpx

        try:
            response = await self._request(client, "HEAD", url)
            if response.status_code < 400:
                return self._result(url, response)
        except (httpx.TimeoutException, TimeoutError, httpx.ConnectError,
                httpx.TooManyRedirects, httpx.UnsupportedProtocol) as exc:
            # Asking again with GET would only fail the same way, later.
            return LinkResult(url, None, None, _describe(exc, self.timeout))
        except httpx.HTTPError:
            pass  # some servers mishandle HEAD: ask again with GET
        try:
            # 405/501 (HEAD not allowed) and other HEAD failures: GET tells the truth.
            response = await self._request(client, "GET", url)
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            return LinkResult(url, None, None, _describe(exc, self.timeout))
        return self._result(url, response)

    @staticmethod
    def _result(url: str, response: httpx.Response) -> LinkResult:
        final = str(response.url)
        return LinkResult(url, response.status_code, final if response.history else None, None)


def _proxy_in_environment() -> bool:
    """True when the environment names a proxy: what httpx itself reads (urllib's getproxies)."""
    from urllib.request import getproxies

    proxies = getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def _skip_missing_sniffio() -> None:
    """Make httpcore's per-request `import sniffio` fail fast when sniffio is not installed.

    httpcore tries `import sniffio` on every request; without the package each failed attempt
    walks sys.path again (about a third of a millisecond each, most of the CPU of a link check).
    A None entry in sys.modules is Python's documented way to say "not importable".
    """
    import importlib.util
    import sys

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


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
) -> dict[str, LinkResult]:
    """Check every distinct URL; cached results younger than `ttl` are reused without a request.

    `on_start(n)` is called with the number of URLs that need a request, before any is made.
    `ssl_context` verifies https servers (default: httpx's, with certifi's CA bundle, built only
    when an https URL is met).
    """
    wanted = list(dict.fromkeys(urls))
    results: dict[str, LinkResult] = {}
    ledger = None
    if ledger_path is not None and wanted:
        from comunicast.ledger import Ledger

        ledger = Ledger.open(ledger_path)
    try:
        if ledger is not None:
            results.update(_cached(ledger, wanted, ttl))
        todo = [u for u in wanted if u not in results]
        if on_start is not None:
            on_start(len(todo))
        if todo:
            import asyncio  # only when a request is needed: a fully cached run stays light

            fetched = asyncio.run(_run(todo, timeout=timeout, per_host=per_host,
                                       concurrency=concurrency, agent=user_agent(contact),
                                       progress=progress, ssl_context=ssl_context))
            for result in fetched:
                results[result.url] = result
            if ledger is not None:
                ledger.link_cache_put_many(
                    (r.url, r.status, r.final_url, r.error) for r in fetched
                )
    finally:
        if ledger is not None:
            ledger.close()
    return results


def summary(results: dict[str, LinkResult]) -> dict[str, Any]:
    """Counts for diagnostics: checked, cached, broken."""
    return {
        "checked": sum(1 for r in results.values() if not r.cached),
        "cached": sum(1 for r in results.values() if r.cached),
        "broken": sum(1 for r in results.values() if r.broken),
    }
