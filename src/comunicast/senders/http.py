"""What the HTTP senders share: URL policy, the client, outcome classification, secret masking.

Outcomes follow SPEC §5: a failure the platform proves did not deliver is `NotDelivered`
(retryable when transient), a failure after the request may have reached it is `MaybeDelivered`.
Every message built here has the sender's secrets masked, and no exception raised here chains
an httpx exception (whose text carries the request URL, where Telegram keeps its bot token).
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from comunicast.i18n import _
from comunicast.senders.base import MaybeDelivered, NotDelivered, SenderError

if TYPE_CHECKING:
    import httpx

MASK = "***"
#: Longest remote error description quoted in a message (they end up in the ledger and on screen).
MAX_DESCRIPTION = 300
#: Telegram bot tokens look like `123456789:AAE…`; masked even when not registered as a secret.
_BOT_TOKEN = re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{20,}")
_LOOPBACK_NAMES = {"localhost"}


# -- URL policy --------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost, where plain http is acceptable."""
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(value: str) -> str:
    """Validate a sender URL: https, or http on a loopback host; no credentials, no query."""
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(_("must be an https:// URL, e.g. https://gateway.example.it"))
    if parts.username is not None or parts.password is not None:
        raise ValueError(_("must not carry a user name or password; use the secret options"))
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            _("must use https:// (http:// is allowed only on 127.0.0.1, ::1 and localhost)")
        )
    if parts.fragment:
        raise ValueError(_("must not have a #fragment"))
    return url.rstrip("/") if not parts.query else url


# -- secret masking ----------------------------------------------------------------------------


class Scrubber:
    """Masks a sender's secrets (and their URL-encoded forms) in any text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Mask `secret` from now on (short values are ignored: they would mask ordinary words)."""
        if not secret or len(secret) < 4:
            return
        for form in {secret, quote(secret, safe=""), quote(secret, safe=":/")}:
            if form not in self._secrets:
                self._secrets.append(form)
        # Longest first, so a secret containing another is masked whole.
        self._secrets.sort(key=len, reverse=True)
        _LOG_FILTER.add(self._secrets)

    def __call__(self, text: object) -> str:
        out = str(text)
        for secret in self._secrets:
            out = out.replace(secret, MASK)
        return _BOT_TOKEN.sub(MASK, out)


class _SecretLogFilter(logging.Filter):
    """Masks registered secrets in records of httpx/httpcore, which log request URLs."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets.update(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a record that cannot format itself: keep its template
            text = str(record.msg)
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        record.msg = _BOT_TOKEN.sub(MASK, text)
        record.args = None
        return True


_LOG_FILTER = _SecretLogFilter()
_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)
for _name in _LOGGERS:
    logging.getLogger(_name).addFilter(_LOG_FILTER)


# -- the client --------------------------------------------------------------------------------


def make_client(
    timeout: float, headers: dict[str, str] | None = None, *, url: str = "https://"
) -> httpx.Client:
    """An httpx client for one sender: no redirects, bounded connect time, our User-Agent.

    `url` is the sender's endpoint: a plain-http one (allowed on loopback only) never uses TLS,
    and the client follows no redirects, so it skips loading the CA bundle (~40 ms per run).
    """
    import httpx

    from comunicast import __version__

    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=False,
        headers={"User-Agent": f"comunicast/{__version__}", **(headers or {})},
        verify=not url.lower().startswith("http://"),
    )


def post(
    client: httpx.Client, url: str, scrub: Scrubber, what: str, **kwargs: Any
) -> httpx.Response:
    """POST and return the response, or raise NotDelivered / MaybeDelivered by what failed."""
    return request(client, "POST", url, scrub, what, **kwargs)


def request(
    client: httpx.Client, method: str, url: str, scrub: Scrubber, what: str, **kwargs: Any
) -> httpx.Response:
    """Make one request (PUT and DELETE of corrections too), classified like `post`."""
    import httpx

    failure: SenderError | None = None
    try:
        return client.request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        # The connection was never made: nothing reached the platform.
        failure = NotDelivered(
            _("{what}: cannot connect: {reason}").format(what=what, reason=scrub(_reason(exc))),
            retryable=True,
        )
    except httpx.ProxyError as exc:
        failure = NotDelivered(
            _("{what}: proxy error: {reason}").format(what=what, reason=scrub(_reason(exc))),
            retryable=True,
        )
    except httpx.UnsupportedProtocol as exc:
        failure = NotDelivered(
            _("{what}: {reason}").format(what=what, reason=scrub(_reason(exc))), retryable=False
        )
    except httpx.ReadTimeout:
        failure = MaybeDelivered(
            _(
                "{what}: no answer within {seconds:g} s after the request was sent; "
                "the message may have been delivered"
            ).format(what=what, seconds=_read_timeout(client))
        )
    except httpx.TransportError as exc:
        # Reset, disconnect or write failure once the request was (partly) on the wire.
        failure = MaybeDelivered(
            _(
                "{what}: the connection failed after the request was sent ({reason}); "
                "the message may have been delivered"
            ).format(what=what, reason=scrub(_reason(exc)))
        )
    # Raised here, outside the `except`, so the httpx exception (URL inside) is not chained.
    raise failure


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _read_timeout(client: httpx.Client) -> float:
    read = client.timeout.read
    return float(read) if read is not None else 0.0


def classify(response: httpx.Response, scrub: Scrubber, what: str) -> None:
    """Return quietly on 2xx; otherwise raise the typed error SPEC §5 assigns to the status."""
    status = response.status_code
    if 200 <= status < 300:
        return
    description = scrub(error_description(response))
    detail = f"HTTP {status}" + (f": {description}" if description else "")
    message = f"{what}: {detail}"
    failure: SenderError
    if status == 429:
        failure = NotDelivered(message, retryable=True, retry_after=retry_after(response))
    elif status in (408, 502, 503, 504):
        # 408: the server gave up reading our request; 502–504: a gateway in front did not pass it on.
        failure = NotDelivered(message, retryable=True, retry_after=retry_after(response))
    elif 300 <= status < 400:
        location = scrub(response.headers.get("location", ""))
        failure = NotDelivered(
            message
            + " "
            + _("(redirect to {location}: configure the final address)").format(
                location=location or "?"
            ),
            retryable=False,
        )
    elif 400 <= status < 500:
        failure = NotDelivered(message, retryable=False)
    else:
        failure = MaybeDelivered(
            message + "; " + _("the platform failed while handling it: it may have been delivered")
        )
    raise failure


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or Telegram's `retry_after`."""
    value = response.headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None and when.tzinfo is not None:
                return max(0.0, when.timestamp() - time.time())
    body = json_body(response)
    if isinstance(body, dict):
        params = body.get("parameters")
        if isinstance(params, dict) and isinstance(params.get("retry_after"), (int, float)):
            return max(0.0, float(params["retry_after"]))
    return None


def json_body(response: httpx.Response) -> Any:
    """The response body as JSON, or None when it is not JSON."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def error_description(response: httpx.Response) -> str:
    """The platform's own words about an error, shortened: JSON fields or the start of the text."""
    body = json_body(response)
    text = ""
    if isinstance(body, dict):
        for key in ("description", "message", "error", "detail", "title"):
            value = body.get(key)
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            if isinstance(value, (str, int, float)) and str(value).strip():
                text = str(value)
                break
    if not text and body is None:
        text = response.content.decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1] + "…"
    return text
