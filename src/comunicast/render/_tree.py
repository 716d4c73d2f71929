"""A light tree over markdown-it's flat token stream (blocks and inline), built once per body."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from comunicast.render._parser import parse

if TYPE_CHECKING:
    from markdown_it.token import Token


@dataclass(slots=True)
class Node:
    """One token and, for containers (`*_open`) and `inline`, its children."""

    token: Token
    children: list[Node] = field(default_factory=list)
    # A blank line (or a bare `>`) right above this block in the source.
    gap: bool = True

    @property
    def type(self) -> str:
        """The token type without `_open` (`paragraph`, `strong`, `link`, `text`, …)."""
        kind = self.token.type
        return kind.removesuffix("_open")


def build(tokens: Sequence[Token]) -> list[Node]:
    """Nest a flat token list; `inline` tokens get their children nested too."""
    root: list[Node] = []
    stack: list[list[Node]] = [root]
    for token in tokens:
        if token.nesting == 1:
            node = Node(token)
            stack[-1].append(node)
            stack.append(node.children)
        elif token.nesting == -1:
            if len(stack) > 1:
                stack.pop()
        else:
            node = Node(token)
            if token.children:
                node.children = build(token.children)
            stack[-1].append(node)
    return root


_BLANK = re.compile(r"[ \t>]*")


def _mark_gaps(nodes: Sequence[Node], lines: Sequence[str]) -> None:
    for node in nodes:
        token = node.token
        if token.type == "inline":
            continue
        if token.map:
            above = token.map[0] - 1
            node.gap = above < 0 or _BLANK.fullmatch(lines[above]) is not None
        _mark_gaps(node.children, lines)


@functools.lru_cache(maxsize=64)
def tree(body: str) -> tuple[Node, ...]:
    """The block tree of `body` (shared through the cache; do not mutate)."""
    tokens, lines = parse(body)
    nodes = build(tokens)
    _mark_gaps(nodes, lines)
    return tuple(nodes)


def plain(nodes: Sequence[Node]) -> str:
    """The text a reader sees in inline nodes, without any markup (alt text for images)."""
    parts: list[str] = []
    for node in nodes:
        kind = node.type
        if kind in ("text", "text_special", "code_inline", "html_inline"):
            parts.append(node.token.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "image":
            parts.append(node.token.content)
        else:
            parts.append(plain(node.children))
    return "".join(parts)
