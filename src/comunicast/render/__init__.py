"""Markdown drafts rendered for WhatsApp, Telegram HTML and plain text, and analysed for rules.

Pure functions: no I/O, no printing. The markdown-it parser is built on first use and a parse is
shared (cached by body) between `render`, `visible_text` and `analyze`.
"""

from __future__ import annotations

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
