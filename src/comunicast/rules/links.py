"""Link rules: scheme, domain, shorteners, deceptive hosts, labels, count."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from comunicast.i18n import _
from comunicast.rules.engine import Context, Hit, Option, Severity, rule

if TYPE_CHECKING:
    from comunicast.config import Config


@dataclass(frozen=True)
class LinkAt:
    """A link of the draft with its 1-based place in the file."""

    url: str
    label: str | None
    #: Where the link starts (`[` of a Markdown link).
    line: int | None
    column: int | None
    #: Where its URL is written.
    url_line: int | None
    url_column: int | None


def links_of(ctx: Context) -> list[LinkAt]:
    """Every link of the draft's body (inline images left to format.unsupported) and of its
    title when the title is sent, placed."""
    found = ctx.cache.get("links")
    if found is None:
        found = []
        if ctx.config.render.title:
            from comunicast.render import find_urls

            for start, _end, url in find_urls(ctx.draft.title):
                line, column = ctx.title_place(start)
                found.append(LinkAt(url, None, line, column, line, column))
        for link in ctx.facts.links:
            if link.image:
                continue
            line, column = ctx.draft.body_place(link.line, link.column)
            url_line, url_column = ctx.draft.body_place(link.url_line, link.url_column)
            label = None if link.bare else link.label
            found.append(LinkAt(link.url, label, line, column, url_line, url_column))
        ctx.cache["links"] = found
    return found


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return None
    return parts


def host_of(url: str) -> str | None:
    """The URL's host, lowercased, without a trailing dot (IPv6 without brackets)."""
    parts = _split(url)
    if parts is None:
        return None
    try:
        host = parts.hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


def in_domains(host: str, domains: list[str]) -> bool:
    """True when `host` is one of `domains` or a subdomain of one (never a mere substring)."""
    host = host.lower().rstrip(".")
    for domain in domains:
        domain = domain.lower().strip(".")
        if host == domain or host.endswith("." + domain):
            return True
    return False


def website_domain(config: Config) -> str | None:
    """The organization website's host without `www.`."""
    site = config.organization.website
    if not site:
        return None
    host = host_of(site)
    if host and host.startswith("www."):
        host = host[4:]
    return host


# -- links.scheme --------------------------------------------------------------------------------

_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")


@rule(
    "links.scheme",
    Severity.ERROR,
    _("a link that is not https:// (http:, javascript:, data:, …)"),
    options={"allowed": Option(list, ["https", "mailto", "tel"],
                               _("schemes accepted besides https"), item=str)},
)
def _scheme(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    allowed = {s.lower().rstrip(":") for s in opts["allowed"]} | {"https"}
    for link in links_of(ctx):
        parts = _split(link.url)
        # An address urlsplit refuses (a bad port) still shows its scheme; links.deceptive
        # reports that it cannot be read.
        written = _SCHEME.match(link.url.strip())
        scheme = parts.scheme.lower() if parts else written.group(1).lower() if written else ""
        if scheme in allowed:
            continue
        if scheme == "http":
            fixed = "https" + link.url.strip()[4:]
            yield Hit(_("insecure link http://: use https:// (check that the page opens with it)"),
                      link.url_line, link.url_column, fixed, span=len(link.url))
        elif not scheme:
            yield Hit(_("link without https://: write the full address, starting with https://"),
                      link.url_line, link.url_column, span=len(link.url))
        else:
            yield Hit(_("link with scheme '{scheme}:' is not allowed: link an https:// page "
                        "instead").format(scheme=scheme), link.url_line, link.url_column,
                      span=len(link.url))


# -- links.domain --------------------------------------------------------------------------------


@rule("links.domain", Severity.WARNING, _("a link outside links.allowed_domains"))
def _domain(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    domains = list(ctx.config.links.allowed_domains)
    if not domains:
        site = website_domain(ctx.config)
        domains = [site] if site else []
    if not domains:
        return
    from comunicast.rules.engine import settings

    chosen = settings(ctx.config)
    shortener = chosen["links.shortener"]
    deceptive = chosen["links.deceptive"].severity is not None
    for link in links_of(ctx):
        parts = _split(link.url)
        if parts is None or parts.scheme.lower() not in ("http", "https"):
            continue
        host = host_of(link.url)
        if host is None or in_domains(host, domains):
            continue
        # Already an error of a sharper rule: one finding says it better than two.
        if shortener.severity is not None and is_shortener(
            host, shortener.options["extra"], shortener.options["allow"]
        ):
            continue
        if deceptive and deception(link.url):
            continue
        yield Hit(
            _("link to {host}, outside the organization's domains ({domains}): prefer a page of "
              "the Comune's website, or add the domain to links.allowed_domains").format(
                host=host, domains=", ".join(domains)),
            link.url_line, link.url_column, span=len(link.url),
        )


# -- links.shortener -----------------------------------------------------------------------------


@cache
def shorteners() -> frozenset[str]:
    """The shipped list of URL-shortener domains."""
    text = (resources.files("comunicast.rules") / "data" / "shorteners.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_shortener(host: str, extra: Sequence[str] = (), allow: Sequence[str] = ()) -> bool:
    """True when `host` belongs to a URL shortener (and is not explicitly allowed)."""
    if allow and in_domains(host, list(allow)):
        return False
    labels = host.split(".")
    known = shorteners()
    for i in range(len(labels) - 1):
        if ".".join(labels[i:]) in known:
            return True
    return bool(extra) and in_domains(host, list(extra))


@rule(
    "links.shortener",
    Severity.ERROR,
    _("a URL shortener (bit.ly, tinyurl.com, …)"),
    options={
        "extra": Option(list, [], _("more shortener domains"), item=str),
        "allow": Option(list, [], _("shortener domains to accept"), item=str),
    },
)
def _shortener(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    for link in links_of(ctx):
        host = host_of(link.url)
        if host and is_shortener(host, opts["extra"], opts["allow"]):
            yield Hit(
                _("{host} is a URL shortener: it hides where the link goes; link the full "
                  "address of the page").format(host=host),
                link.url_line, link.url_column, span=len(link.url),
            )


# -- links.deceptive -----------------------------------------------------------------------------

_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


def is_ip_literal(host: str) -> bool:
    """True for IPv4/IPv6 literals, including decimal (3232235777), hex and octal forms."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    # Browsers read every all-numeric host (127.1, 0x7f.0.0.1, 0300.0250.0.1, 3232235777) as IPv4.
    return 1 <= len(labels) <= 4 and all(_NUMERIC_LABEL.fullmatch(label) for label in labels)


def _script(ch: str) -> str:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "UNKNOWN"
    return name.split(" ", 1)[0]


def mixed_scripts(host: str) -> set[str]:
    """The scripts of the letters of `host` (e.g. {'LATIN', 'CYRILLIC'})."""
    return {_script(c) for c in host if c.isalpha()}


def deception(url: str) -> str | None:
    """Why `url` could deceive a reader (a message), or None."""
    parts = _split(url)
    if parts is None:
        return _("the address cannot be parsed")
    if not parts.netloc:
        return None
    if "@" in parts.netloc:
        shown = parts.netloc.rsplit("@", 1)[1]
        return _("the address goes to {host}, not to what comes before '@': remove the "
                 "user-info").format(host=shown)
    host = host_of(url) or ""
    if is_ip_literal(host):
        return _("the address is a bare IP number ({host}); link a named page of the "
                 "Comune").format(host=host)
    if any(label.startswith("xn--") for label in host.split(".")):
        return _("the host {host} is punycode (an encoded international name that can imitate "
                 "another): check where it leads and link a plain name").format(host=host)
    if not host.isascii():
        scripts = mixed_scripts(host)
        if len(scripts) > 1:
            return _("the host {host} mixes alphabets ({scripts}), a trick to imitate another "
                     "site").format(host=host, scripts=", ".join(sorted(scripts)).lower())
    return None


@rule("links.deceptive", Severity.ERROR,
      _("user-info in the URL, IP literals, punycode or mixed-script hosts"))
def _deceptive(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    for link in links_of(ctx):
        why = deception(link.url)
        if why:
            yield Hit(_("deceptive link: {why}").format(why=why), link.url_line,
                      link.url_column, span=len(link.url))


# -- links.label ---------------------------------------------------------------------------------

_LABELS = ["clicca qui", "qui", "link", "clicca", "questo link", "il link", "clicca sul link",
           "premi qui", "tocca qui", "leggi qui", "vai", "leggi", "click here", "here", "click",
           "more", "info", "qua", "clicca qua", "scopri di più", "di più", "url"]


def _normal_label(label: str) -> str:
    from comunicast.rules.text import fold

    return " ".join(re.sub(r"[^\w\s]", " ", fold(label)).split())


@cache
def _vague(labels: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_normal_label(v) for v in labels)


@rule(
    "links.label",
    Severity.WARNING,
    _('link text such as "clicca qui", "qui", "link"'),
    options={"labels": Option(list, _LABELS, _("link texts that say nothing"), item=str)},
)
def _label(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    vague = _vague(tuple(opts["labels"]))
    for link in links_of(ctx):
        if link.label is None:
            continue
        if _normal_label(link.label) in vague:
            yield Hit(
                _('link text "{label}" says nothing about where it leads: name the page, e.g. '
                  '"orari dell\'anagrafe"').format(label=link.label),
                link.line, link.column, span=len(link.label) + 2,
            )


# -- links.count ---------------------------------------------------------------------------------


@rule(
    "links.count",
    Severity.WARNING,
    _("more than 3 links"),
    options={"max": Option(int, 3, _("most links in one message"), minimum=0)},
)
def _count(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    found = links_of(ctx)
    if len(found) <= opts["max"]:
        return
    extra = found[opts["max"]]
    yield Hit(
        _("{n} links, more than {max}: keep the one or two that matter most").format(
            n=len(found), max=opts["max"]),
        extra.url_line, extra.url_column, span=len(extra.url),
    )


# -- the online pass (links.broken, links.redirect) -----------------------------------------------


def checkable_links(ctx: Context) -> list[LinkAt]:
    """The draft's http(s) links, which `--online` asks for."""
    found = []
    for link in links_of(ctx):
        parts = _split(link.url)
        if parts is not None and parts.scheme.lower() in ("http", "https") and parts.hostname:
            found.append(link)
    return found


_MD_DESTINATION = re.compile(r"\]\(\s*<?(https?://[^)\s>]+)", re.IGNORECASE)
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>", re.IGNORECASE)


def quick_urls(body: str) -> set[str]:
    """The http(s) URLs of a body found without parsing its Markdown (a close superset).

    `--online` starts asking with these while the rules (which parse) run elsewhere; the few
    URLs only the parser sees are asked for afterwards.
    """
    from comunicast.render import find_urls

    found = {url for _start, _end, url in find_urls(body)}
    found.update(_MD_DESTINATION.findall(body))
    found.update(_AUTOLINK.findall(body))
    return found


def _site(host: str) -> str:
    return host.removeprefix("www.")


def other_domain(url: str, final_url: str) -> bool:
    """True when `final_url` is on another site than `url` (www. and subdomains are the same)."""
    a, b = _site(host_of(url) or ""), _site(host_of(final_url) or "")
    return not (in_domains(a, [b]) or in_domains(b, [a]))


def online_hits(links: list[LinkAt], results: dict[str, Any]) -> Iterator[tuple[str, Hit]]:
    """(rule id, hit) for every link whose check failed or that leads to another site."""
    for link in links:
        result = results.get(link.url.strip())
        if result is None:
            continue
        if result.broken:
            yield "links.broken", Hit(
                _("link does not work: {reason}; fix the address or remove the link").format(
                    reason=result.reason()),
                link.url_line, link.url_column, span=len(link.url),
            )
        elif result.final_url and other_domain(link.url, result.final_url):
            yield "links.redirect", Hit(
                _("link redirects to another site ({host}): link the final address, so readers "
                  "see where they go").format(host=host_of(result.final_url)),
                link.url_line, link.url_column, result.final_url, span=len(link.url),
            )
