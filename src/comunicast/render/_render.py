"""Walk the Markdown tree and write it for one target (see `targets` for each target's pieces).

Layout decisions, the same for every target:
- blocks are separated by one blank line (several collapse to one), except where the source
  has none (a list right under its lead-in line stays right under it); soft and hard line
  breaks stay line breaks;
- list items are one per line (`- `, `• ` on Telegram, `N. ` keeping the start number), with a
  blank line between items only where the source has one; nested lists and continuation lines
  are indented by the width of their parent's marker;
- headings become a bold line, tables one line per row (`a | b`, header cells bold), inline
  images `alt: url`, raw HTML its literal (escaped) text; `analyze` reports all four;
- a thematic break (`---`) becomes `———`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from comunicast.render._parser import SENTINELS
from comunicast.render._tree import Node, plain, tree
from comunicast.render.targets import EMITTERS, TARGETS, Plain, Style, Target
from comunicast.render.urls import find_urls

_STYLE_OF: dict[str, Style] = {"em": "i", "strong": "b", "s": "s"}
_TITLE_BREAKS = re.compile(r"\s*\n\s*")


def _inline(nodes: Sequence[Node], em: Plain, active: frozenset[str]) -> str:
    parts: list[str] = []
    for node in nodes:
        kind = node.type
        token = node.token
        if kind in ("text", "text_special"):
            parts.append(em.text(token.content))
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "code_inline":
            parts.append(em.code(token.content))
        elif kind in _STYLE_OF:
            style = _STYLE_OF[kind]
            inner = _inline(node.children, em, active | {style})
            # Nested same style (`**a **b** c**`, bold inside a heading) adds nothing.
            parts.append(inner if style in active else em.style(style, inner))
        elif kind == "link":
            href = str(token.attrs.get("href", "")).replace(" ", "%20")
            if token.markup == "linkify":
                parts.append(em.url(href))
            else:
                inner = _inline(node.children, em, active)
                parts.append(em.link(inner, plain(node.children), href))
        elif kind == "image":
            src = str(token.attrs.get("src", "")).replace(" ", "%20")
            parts.append(em.image(token.content, src))
        elif kind == "html_inline":
            parts.append(em.raw(token.content))
        else:
            parts.append(_inline(node.children, em, active))
    return "".join(parts)


def _inline_of(node: Node, em: Plain, active: frozenset[str] = frozenset()) -> str:
    """Render the `inline` child of a paragraph, heading or table cell."""
    return "".join(_inline(child.children, em, active) for child in node.children)


def _blocks(nodes: Sequence[Node], em: Plain, quote: int) -> list[str]:
    lines: list[str] = []
    for node in nodes:
        block = _block(node, em, quote)
        if not block:
            continue
        # One blank line between blocks, or none where the author wrote none
        # (`Cosa portare:` with its list right below).
        if lines and node.gap:
            lines.append("")
        lines.extend(block)
    return lines


def _list(node: Node, em: Plain, quote: int) -> list[str]:
    items = [item for item in node.children if item.type == "list_item"]
    start = int(node.token.attrs.get("start", 1) or 1)
    lines: list[str] = []
    for number, item in enumerate(items, start):
        marker = em.ordered(number) if node.type == "ordered_list" else em.bullet
        body = _blocks(item.children, em, quote) or [""]
        if lines and item.gap:
            lines.append("")
        lines.append(marker + body[0])
        indent = " " * len(marker)
        lines.extend(indent + line if line else "" for line in body[1:])
    return lines


def _table(node: Node, em: Plain) -> list[str]:
    lines: list[str] = []
    for section in node.children:
        for row in section.children:
            cells = []
            for cell in row.children:
                if cell.type == "th":
                    cells.append(em.style("b", _inline_of(cell, em, frozenset({"b"}))))
                else:
                    cells.append(_inline_of(cell, em))
            lines.append(" | ".join(cells).strip())
    return lines


def _block(node: Node, em: Plain, quote: int) -> list[str]:
    kind = node.type
    token = node.token
    if kind == "paragraph":
        return _inline_of(node, em).split("\n")
    if kind == "heading":
        return em.style("b", _inline_of(node, em, frozenset({"b"}))).split("\n")
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, em, quote)
    if kind == "blockquote":
        return em.quote(_blocks(node.children, em, quote + 1), quote + 1)
    if kind in ("fence", "code_block"):
        return em.code_block(token.content.rstrip("\n"))
    if kind == "html_block":
        return [em.raw(line) for line in token.content.rstrip("\n").split("\n")]
    if kind == "hr":
        return [em.rule] if em.rule else []
    if kind == "table":
        return _table(node, em)
    if kind == "inline":
        return _inline(node.children, em, frozenset()).split("\n")
    return _blocks(node.children, em, quote)


def _title(title: str, em: Plain) -> str:
    """The title as the bold first line; it is plain text (bare URLs kept whole)."""
    text = _TITLE_BREAKS.sub(" ", SENTINELS.sub("\ufffd", title).strip())
    parts: list[str] = []
    pos = 0
    for start, end, url in find_urls(text):
        parts.append(em.text(text[pos:start]))
        parts.append(em.url(url))
        pos = end
    parts.append(em.text(text[pos:]))
    return em.style("b", "".join(parts))


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def render_body(body: str, em: Plain) -> str:
    """The body alone for emitter `em`, before the emitter's last pass."""
    return "\n".join(_blocks(tree(body), em, 0))


def render(body: str, *, title: str | None, target: Target) -> str:
    """The exact text a sender of `target` sends: title as the bold first line, blank line, body."""
    if target not in TARGETS:
        raise ValueError(f"unknown render target {target!r}; expected one of {TARGETS}")
    em = EMITTERS[target]
    text = render_body(body, em)
    if title is not None and title.strip():
        head = _title(title, em)
        text = head + "\n\n" + text if text.strip() else head
    return _tidy(em.finish(text))


_SPACES = re.compile(r"[ \t]{2,}")
_BLANK_LINES = re.compile(r"\n{3,}")


def visible_text(body: str) -> str:
    """The body as a reader reads it (no markup, no URLs, no list markers), for readability."""
    text = render_body(body, EMITTERS["reading"])
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _tidy(_BLANK_LINES.sub("\n\n", text))
