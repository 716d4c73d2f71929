"""Bare `http(s)://` URL detection in running text (what a messaging app would auto-link).

markdown-it's own linkify needs `linkify-it-py`, which is not a dependency; this module is the
small, careful replacement. A URL runs until whitespace or a character that cannot sensibly end
one (`<`, `>`, quotes, guillemets, backtick); then trailing punctuation that belongs to the
sentence is given back: `.` `,` `;` `:` `!` `?` quotes, `»`, and a closing `)` `]` `}` unless it
balances an opening one inside the URL (`…/Cremona_(città)`). Trailing `*`, `_`, `~` stay in the
URL (`https://x.it/*x*`, `/~utente/a~b~`) unless the caller says an emphasis opened before the
URL is waiting for them (`**https://x.it**`): see `closers`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

# Characters that can never be part of a bare URL as people write it in a message.
_STOP = '\\s<>"«»“”‘’`\ufdd0-\ufdd6'
URL_RE = re.compile(rf"(?<![0-9A-Za-z.+\-])https?://[^{_STOP}]+", re.IGNORECASE)
_SCHEME_RE = re.compile(r"https?://", re.IGNORECASE)

_TRAILING_PUNCT = frozenset(".,;:!?'\"»«”“’‘>")
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_MARKERS = frozenset("*_~")


def trim_url(candidate: str, closers: Mapping[str, int] | None = None) -> str:
    """The URL part of `candidate` (a maximal non-space run starting with the scheme).

    `closers` maps `*`, `_`, `~` to how many trailing ones may close an emphasis opened before
    the URL; those are given back to the text.
    """
    allowance = dict(closers or {})
    url = candidate
    scheme = _SCHEME_RE.match(url)
    scheme_len = len(scheme.group(0)) if scheme else 0
    while len(url) > scheme_len:
        last = url[-1]
        if last in _TRAILING_PUNCT:
            url = url[:-1]
        elif last in _CLOSERS:
            if url.count(_CLOSERS[last]) >= url.count(last):
                break  # balanced: `(…)` belongs to the URL
            url = url[:-1]
        elif last in _MARKERS:
            run = len(url) - len(url.rstrip(last))
            give = min(run, allowance.get(last, 0), len(url) - scheme_len)
            if give <= 0:
                break
            url = url[:-give]
            allowance[last] = 0
        else:
            break
    return url


def match_url(
    text: str, start: int, end: int | None = None, closers: Mapping[str, int] | None = None
) -> str | None:
    """The bare URL starting exactly at `text[start]`, or None (see `trim_url` for `closers`)."""
    m = URL_RE.match(text, start, len(text) if end is None else end)
    if m is None:
        return None
    url = trim_url(m.group(0), closers)
    scheme = _SCHEME_RE.match(url)
    if scheme is None or len(url) <= len(scheme.group(0)):
        return None
    # A host needs at least one letter or digit right after `//`.
    if not url[len(scheme.group(0))].isalnum():
        return None
    return url


def find_urls(text: str) -> Iterator[tuple[int, int, str]]:
    """Every bare URL in `text` as `(start, end, url)`, in order."""
    pos = 0
    while True:
        m = URL_RE.search(text, pos)
        if m is None:
            return
        url = match_url(text, m.start())
        if url is None:
            pos = m.start() + 1
            continue
        yield m.start(), m.start() + len(url), url
        pos = m.start() + len(url)
