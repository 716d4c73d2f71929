"""Markdown drafts rendered for WhatsApp, Telegram HTML and plain text, and analysed for rules.

Pure functions: no I/O, no printing. The markdown-it parser is built on first use and a parse is
shared (cached by body) between `render`, `visible_text` and `analyze`.

The names below are imported on first use (PEP 562): `check --online` needs only `find_urls`
before its first request, and a check answered from the findings cache needs none of the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from comunicast.render._render import render, visible_text
    from comunicast.render.analysis import (
        Construct,
        Emphasis,
        Link,
        MarkdownFacts,
        TextBlock,
        TextRun,
        analyze,
    )
    from comunicast.render.length import telegram_visible, text_length
    from comunicast.render.targets import TARGETS, WORD_JOINER, Target
    from comunicast.render.urls import find_urls

_HOME = {
    "render": "_render", "visible_text": "_render",
    "Construct": "analysis", "Emphasis": "analysis", "Link": "analysis",
    "MarkdownFacts": "analysis", "TextBlock": "analysis", "TextRun": "analysis",
    "analyze": "analysis",
    "telegram_visible": "length", "text_length": "length",
    "TARGETS": "targets", "WORD_JOINER": "targets", "Target": "targets",
    "find_urls": "urls",
}

__all__ = [
    "TARGETS",
    "WORD_JOINER",
    "Construct",
    "Emphasis",
    "Link",
    "MarkdownFacts",
    "Target",
    "TextBlock",
    "TextRun",
    "analyze",
    "find_urls",
    "render",
    "telegram_visible",
    "text_length",
    "visible_text",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value
