"""The one configured markdown-it parser, and a cached parse of a draft body.

CommonMark plus `~~strike~~` and GFM tables (tables are parsed only to report and degrade them).
Two additions make the tokens fit our needs:

- a `bare_url` inline rule, which turns `https://…` in text into link tokens *before* emphasis
  runs, so `https://x.it/a_b_c` or `https://x.it/*x*` can never be split by `_`/`*` pairs;
- `meta["span"] = (start, end)` on link, image and bare-URL tokens: offsets in the inline
  token's `content`, recorded by wrapping the link/image/autolink rules (markdown-it keeps
  positions for blocks only). The rest of the inline positions are recovered by `analysis`.

The core rule `text_join` is disabled so backslash escapes and entities stay `text_special`
tokens whose `markup` is the exact source text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from comunicast.render.urls import match_url

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

# Private sentinels used while rendering (Unicode noncharacters, never valid in a message).
SENTINELS = re.compile("[\ufdd0-\ufdd6]")
_SCHEME_TAIL = re.compile(r"(?:^|[^A-Za-z0-9.+\-])(https?)$", re.IGNORECASE)

_InlineRule = Callable[["StateInline", bool], bool]


def normalize_body(body: str) -> str:
    """Line endings to `\\n`, NUL and our private sentinels to U+FFFD (as markdown-it would)."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    return SENTINELS.sub("\ufffd", body)


def _open_emphasis(state: StateInline) -> dict[str, int]:
    """How many `*`, `_`, `~` could close emphasis opened earlier in this inline scope.

    Pairing happens after tokenizing, so this is a balance of the delimiter runs seen so far:
    `**https://x.it**` gives back its `**`, `https://x.it/*x*` keeps its stars.
    """
    balance: dict[str, int] = {}
    for delim in getattr(state, "delimiters", ()):
        char = chr(delim.marker)
        # Strikethrough records one delimiter per `~~` pair, emphasis one per character.
        width = 2 if char == "~" else 1
        if delim.open and not delim.close:
            balance[char] = balance.get(char, 0) + width
        elif delim.close and not delim.open:
            balance[char] = max(balance.get(char, 0) - width, 0)
    return balance


def _bare_url(state: StateInline, silent: bool) -> bool:
    """Inline rule: a bare `http(s)://` URL becomes a link (markup `linkify`)."""
    pos = state.pos
    src = state.src
    if src[pos] != ":" or not src.startswith("//", pos + 1):
        return False
    if getattr(state, "linkLevel", 0) > 0:
        return False  # inside a link label: the label is text
    m = _SCHEME_TAIL.search(state.pending)
    if m is None:
        return False
    proto = m.group(1)
    start = pos - len(proto)
    if src[start:pos].lower() != proto.lower():
        return False
    url = match_url(src, start, state.posMax, _open_emphasis(state))
    if url is None:
        return False
    if not silent:
        state.pending = state.pending[: -len(proto)]
        span = (start, start + len(url))
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": url}
        token.markup = "linkify"
        token.info = "auto"
        token.meta = {"span": span}
        token = state.push("text", "", 0)
        token.content = url
        token.meta = {"span": span}
        token = state.push("link_close", "a", -1)
        token.markup = "linkify"
        token.info = "auto"
        token.meta = {"span": span}
    state.pos = start + len(url)
    return True


def _with_span(rule: _InlineRule) -> _InlineRule:
    """Wrap an inline rule so the link/image tokens it creates carry their source span."""

    def wrapped(state: StateInline, silent: bool) -> bool:
        start = state.pos
        first = len(state.tokens)
        ok = rule(state, silent)
        if ok and not silent:
            for token in state.tokens[first:]:
                if token.type in ("link_open", "link_close", "image") and "span" not in token.meta:
                    token.meta["span"] = (start, state.pos)
        return ok

    return wrapped


def _make_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import autolink, image, link

    class _Parser(MarkdownIt):
        # Keep every destination as written: rules judge `javascript:` and friends, renderers
        # show the URL the author typed (no percent-encoding, no punycode).
        def validateLink(self, url: str) -> bool:
            return True

        def normalizeLink(self, url: str) -> str:
            return url

        def normalizeLinkText(self, link: str) -> str:
            return link

    md = _Parser("commonmark").enable(["strikethrough", "table"])
    md.disable("text_join")
    md.inline.ruler.after("linkify", "bare_url", _bare_url)
    md.inline.ruler.at("link", _with_span(link))
    md.inline.ruler.at("image", _with_span(image))
    md.inline.ruler.at("autolink", _with_span(autolink))
    return md


@functools.cache
def parser() -> MarkdownIt:
    """The shared parser, built on first use (markdown-it is imported lazily)."""
    return _make_parser()


@functools.lru_cache(maxsize=64)
def parse(body: str) -> tuple[tuple[Token, ...], tuple[str, ...]]:
    """Block tokens of `body` and its normalized source lines (shared; do not mutate)."""
    text = normalize_body(body)
    env: dict[str, Any] = {}
    tokens = parser().parse(text, env)
    return tuple(tokens), tuple(text.split("\n"))


def plain_text(children: Sequence[Token]) -> str:
    """The text a reader sees in inline tokens, without any markup (alt text for images)."""
    parts: list[str] = []
    for token in children:
        if token.type in ("text", "text_special", "code_inline", "html_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif token.type == "image":
            parts.append(plain_text(token.children or ()))
    return "".join(parts)
