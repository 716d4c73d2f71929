"""Facts about a Markdown body for the rules engine: links, unsupported constructs, emphasis, text.

Positions are 0-based: `line` is the line within the body (the first body line is 0; add the
front matter's length and 1 for a file position), `column` counts Unicode code points from the
start of that source line (add 1 for a 1-based column). They point at the source text, so a
regex match at offset `k` of a `TextRun.text` is at column `run.column + k` of `run.line`.

markdown-it records line ranges for blocks only. Inline positions are recovered by walking each
inline token's children in order against its `content` (every text token holds a literal slice
of it; escapes and entities keep their source in `markup`; links, images and bare URLs carry the
span recorded by the parser), then mapping content offsets to source lines: each content line is
its source line with the block prefix (`> `, list indentation, `# `) removed.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from comunicast.render._parser import parse, plain_text
from comunicast.render._render import _inline
from comunicast.render._tree import build
from comunicast.render.targets import EMITTERS

if TYPE_CHECKING:
    from markdown_it.token import Token

ConstructKind = Literal["heading", "table", "html", "image"]
_SNIPPET = 60
_CONTAINER_PREFIX = re.compile(r"(?:[ \t]*(?:>|[-+*]|\d{1,9}[.)])(?=[ \t]|$)[ \t]?)*[ \t]*")
_STYLE_TOKENS = frozenset(
    {"em_open", "em_close", "strong_open", "strong_close", "s_open", "s_close"}
)


@dataclass(frozen=True, slots=True)
class Link:
    """A link as written: Markdown `[label](url)`, `<url>`, a bare URL, or an image source.

    `bare` is true when the URL is shown as itself (bare URL or `<url>` autolink; `label` is None).
    `line`/`column` is where the link starts (`[`, `<`, `!` or the URL); `url_line`/`url_column`
    is where its URL is written (the same place for bare URLs; the link's start when the URL
    comes from a reference definition elsewhere).
    """

    url: str
    label: str | None
    line: int
    column: int
    bare: bool
    image: bool = False
    url_line: int = 0
    url_column: int = 0


@dataclass(frozen=True, slots=True)
class Construct:
    """A construct the targets cannot show: heading, table, raw HTML or inline image."""

    kind: ConstructKind
    line: int
    column: int
    snippet: str


@dataclass(frozen=True, slots=True)
class Emphasis:
    """A single-star `*text*` (italic in Markdown, bold to WhatsApp users); at the first `*`."""

    line: int
    column: int
    text: str


@dataclass(frozen=True, slots=True)
class TextRun:
    """A run of source text outside code, URLs, markup and HTML; `text` is the exact source slice."""

    line: int
    column: int
    text: str


@dataclass(frozen=True, slots=True)
class TextBlock:
    """The reading text of one paragraph, heading or table cell (URLs removed), with its lines."""

    kind: Literal["paragraph", "heading", "table_cell"]
    line: int
    end_line: int
    text: str


@dataclass(frozen=True, slots=True)
class MarkdownFacts:
    """Everything the rules need from a body, in source order."""

    links: tuple[Link, ...]
    unsupported: tuple[Construct, ...]
    emphasis: tuple[Emphasis, ...]
    text_runs: tuple[TextRun, ...]
    blocks: tuple[TextBlock, ...]


def _snippet(text: str) -> str:
    text = text.split("\n")[0].rstrip()
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# -- inline offsets -------------------------------------------------------------------------


def _locate(src: str, literal: str, pos: int) -> tuple[int, int] | None:
    """Where `literal` sits in `src` at or after `pos` (whitespace may be skipped)."""
    if not literal:
        return pos, pos
    if src.startswith(literal, pos):
        return pos, pos + len(literal)
    found = src.find(literal, pos)
    if found < 0:
        return None
    return found, found + len(literal)


def _code_span(src: str, markup: str, pos: int) -> tuple[int, int] | None:
    opening = _locate(src, markup, pos)
    if opening is None:
        return None
    q = opening[1]
    while True:
        q = src.find(markup, q)
        if q < 0:
            return opening[0], len(src)
        run_end = q
        while run_end < len(src) and src[run_end] == "`":
            run_end += 1
        if run_end - q == len(markup):
            return opening[0], run_end
        q = run_end


def _align(children: Sequence[Token], src: str) -> list[tuple[int, int] | None]:
    """The span in `src` of each inline child token, in order (None where it cannot be found)."""
    spans: list[tuple[int, int] | None] = []
    pos = 0
    for token in children:
        kind = token.type
        span: tuple[int, int] | None
        recorded = token.meta.get("span") if token.meta else None
        if kind == "link_open" and recorded:
            span = recorded
            pos = recorded[0] + (0 if token.markup == "linkify" else 1)
        elif kind in ("link_close", "image") and recorded:
            span = recorded
            pos = recorded[1]
        elif kind in ("softbreak", "hardbreak"):
            newline = src.find("\n", pos)
            if newline < 0:
                span = None
            else:
                span = (newline, newline + 1)
                pos = newline + 1
                while pos < len(src) and src[pos] in " \t":
                    pos += 1
        elif kind == "code_inline":
            span = _code_span(src, token.markup, pos)
        elif kind == "text_special":
            span = _locate(src, token.markup, pos)
        elif kind in ("text", "html_inline"):
            span = _locate(src, token.content, pos)
        elif kind in _STYLE_TOKENS:
            span = _locate(src, token.markup, pos)
        else:
            span = None
        if span is not None and kind not in ("link_open", "link_close", "image"):
            pos = span[1]
        spans.append(span)
    return spans


class _LineMap:
    """Maps offsets in an inline token's content to (line, column) in the body."""

    def __init__(self, content: str, first_line: int, lines: Sequence[str], min_col: int = 0):
        self.first_line = first_line
        self.starts: list[int] = []
        self.columns: list[int] = []
        self.leads: list[int] = []
        # Per-character columns, for the rare line whose content is not verbatim source.
        self.exact: list[list[int] | None] = []
        offset = 0
        for i, piece in enumerate(content.split("\n")):
            index = first_line + i
            source = lines[index] if index < len(lines) else ""
            column, lead, exact = self._place(source, piece, min_col if i == 0 else 0)
            self.starts.append(offset)
            self.columns.append(column)
            self.leads.append(lead)
            self.exact.append(exact)
            offset += len(piece) + 1

    @staticmethod
    def _place(source: str, piece: str, min_col: int) -> tuple[int, int, list[int] | None]:
        """Column of `piece` in its source line, how many leading chars are not there, and
        per-character columns when the piece is not verbatim source."""
        core = piece.lstrip()
        lead = len(piece) - len(core)
        if not core:
            return min(_indent(source), len(source)), lead, None
        if min_col == 0:
            if source.endswith(piece):
                return len(source) - len(piece), 0, None
            if source.endswith(core):
                return len(source) - len(core), lead, None
            stripped = source.rstrip()
            if stripped.endswith(core.rstrip()):
                return len(stripped) - len(core.rstrip()), lead, None
        found = source.find(core, min_col)
        if found >= 0:
            return found, lead, None
        # Not verbatim (a table cell's `\|` is unescaped): anchor on its longest findable
        # start, then walk both, stepping over a backslash that escapes the next character.
        size = len(core)
        anchor = min(min_col, len(source))
        while size > 0:
            found = source.find(core[:size], min_col)
            if found >= 0:
                anchor = found
                break
            size //= 2
        exact = []
        j = anchor
        for char in core:
            if j + 1 < len(source) and source[j] == "\\" and source[j + 1] == char != "\\":
                j += 1
            exact.append(j)
            j += 1
        return anchor, lead, exact

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of content offset `offset`."""
        i = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        k = max(0, offset - self.starts[i] - self.leads[i])
        exact = self.exact[i]
        if exact:
            column = exact[k] if k < len(exact) else exact[-1] + 1 + k - len(exact)
            return self.first_line + i, column
        return self.first_line + i, self.columns[i] + k


# -- the walk -------------------------------------------------------------------------------


class _Collector:
    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.links: list[Link] = []
        self.unsupported: list[Construct] = []
        self.emphasis: list[Emphasis] = []
        self.runs: list[TextRun] = []
        self.blocks: list[TextBlock] = []

    def block(self, token: Token, kind: ConstructKind) -> None:
        line = token.map[0] if token.map else 0
        source = self.lines[line] if line < len(self.lines) else ""
        if kind == "html":
            first = token.content.strip().split("\n")[0]
            column = max(source.find(first), 0) if first else _indent(source)
        else:
            # Past the quote and list markers of the containers (`> - # Titolo`).
            column = _CONTAINER_PREFIX.match(source).end()  # type: ignore[union-attr]
        self.unsupported.append(Construct(kind, line, column, _snippet(source[column:])))

    def inline(self, token: Token, kind: str, min_col: int = 0) -> int:
        """Collect from one inline token; returns the column after it (for table cells)."""
        if token.map is None:
            return min_col
        src = token.content
        children = token.children or []
        spans = _align(children, src)
        first = token.map[0]
        # A paragraph's content is stripped, so lines of Unicode spaces only (NBSP) that open
        # it are gone from the content: skip them to keep the line numbers right.
        opening = src.split("\n", 1)[0].strip()
        while first < token.map[1] - 1 and first < len(self.lines):
            line = self.lines[first]
            if line.replace(">", "").strip() or (opening and opening in line):
                break
            first += 1
        where = _LineMap(src, first, self.lines, min_col)
        self._links_and_runs(children, spans, src, where)
        reading = _inline(build(children), EMITTERS["reading"], frozenset()).strip()
        if reading:
            block_kind: Literal["paragraph", "heading", "table_cell"] = (
                "table_cell"
                if kind in ("th", "td")
                else "heading"
                if kind == "heading"
                else "paragraph"
            )
            self.blocks.append(
                TextBlock(block_kind, token.map[0], max(token.map[1] - 1, token.map[0]), reading)
            )
        return where.position(len(src))[1] if src else min_col

    def _links_and_runs(
        self,
        children: Sequence[Token],
        spans: Sequence[tuple[int, int] | None],
        src: str,
        where: _LineMap,
    ) -> None:
        open_link: tuple[int, Token] | None = None
        in_url = False
        stars: list[int] = []
        run_start = run_end = -1

        def flush() -> None:
            nonlocal run_start, run_end
            if run_end > run_start >= 0:
                line, column = where.position(run_start)
                text = src[run_start:run_end]
                source = self.lines[line] if line < len(self.lines) else ""
                if source[column : column + len(text)] != text:
                    # markdown-it rewrote the source here (`\|` in a table cell): a run is
                    # only worth reporting where it is the exact source text.
                    column = source.find(text)
                if column >= 0:
                    self.runs.append(TextRun(line, column, text))
            run_start = run_end = -1

        for index, token in enumerate(children):
            span = spans[index]
            kind = token.type
            if kind in ("text", "text_special") and not in_url and span is not None:
                if span[0] != run_end:
                    flush()
                    run_start = span[0]
                run_end = span[1]
                continue
            if kind in ("text", "text_special") and span is not None and span[0] == span[1]:
                continue  # empty leftovers of `**` delimiters do not break a run
            flush()
            start = span[0] if span else 0
            if kind == "link_open":
                href = str(token.attrs.get("href", ""))
                line, column = where.position(start)
                if token.markup in ("linkify", "autolink"):
                    in_url = True
                    # An autolink's URL starts after its `<`.
                    url_line, url_column = where.position(start + (token.markup == "autolink"))
                    self.links.append(
                        Link(href, None, line, column, True, False, url_line, url_column)
                    )
                else:
                    open_link = (index, token)
            elif kind == "link_close":
                in_url = False
                if open_link is not None and span is not None:
                    first, opening = open_link
                    href = str(opening.attrs.get("href", ""))
                    label = plain_text(children[first + 1 : index])
                    line, column = where.position(span[0])
                    found = src.find(href, span[0], span[1]) if href else -1
                    url_line, url_column = where.position(found) if found >= 0 else (line, column)
                    self.links.append(
                        Link(href, label, line, column, False, False, url_line, url_column)
                    )
                open_link = None
            elif kind == "image" and span is not None:
                url = str(token.attrs.get("src", ""))
                line, column = where.position(span[0])
                found = src.find(url, span[0], span[1]) if url else -1
                url_line, url_column = where.position(found) if found >= 0 else (line, column)
                self.links.append(
                    Link(url, token.content, line, column, False, True, url_line, url_column)
                )
                self.unsupported.append(
                    Construct("image", line, column, _snippet(src[span[0] : span[1]]))
                )
            elif kind == "html_inline":
                line, column = where.position(start)
                self.unsupported.append(Construct("html", line, column, _snippet(token.content)))
            elif kind == "em_open" and token.markup == "*":
                stars.append(index)
            elif kind == "em_close" and token.markup == "*" and stars:
                first = stars.pop()
                opening_span = spans[first]
                line, column = where.position(opening_span[0] if opening_span else 0)
                self.emphasis.append(
                    Emphasis(line, column, plain_text(children[first + 1 : index]))
                )
        flush()


@functools.lru_cache(maxsize=64)
def analyze(body: str) -> MarkdownFacts:
    """Links, unsupported constructs, single-star emphasis and text runs of `body`."""
    tokens, lines = parse(body)
    facts = _Collector(lines)
    parents: list[str] = []
    cell_column = 0
    for token in tokens:
        kind = token.type
        if token.nesting == 1:
            parents.append(kind[:-5])
            if kind == "heading_open":
                facts.block(token, "heading")
            elif kind == "table_open":
                facts.block(token, "table")
            elif kind == "tr_open":
                cell_column = 0
        elif token.nesting == -1:
            if parents:
                parents.pop()
        elif kind == "html_block":
            facts.block(token, "html")
        elif kind == "inline":
            parent = parents[-1] if parents else "paragraph"
            if parent in ("th", "td"):
                cell_column = facts.inline(token, parent, cell_column)
            else:
                facts.inline(token, parent)
    facts.links.sort(key=lambda k: (k.line, k.column))
    facts.emphasis.sort(key=lambda e: (e.line, e.column))
    facts.unsupported.sort(key=lambda c: (c.line, c.column))
    return MarkdownFacts(
        links=tuple(facts.links),
        unsupported=tuple(facts.unsupported),
        emphasis=tuple(facts.emphasis),
        text_runs=tuple(facts.runs),
        blocks=tuple(facts.blocks),
    )
