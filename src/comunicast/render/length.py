"""Message length as each platform counts it (SPEC §3.3)."""

from __future__ import annotations

import re

from comunicast.render.targets import TARGETS, Target

_TAG_RE = re.compile(r"<[^<>]*>")
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NAMED = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"'}


def _decode(entity: re.Match[str]) -> str:
    text = entity.group(0)
    if text in _NAMED:
        return _NAMED[text]
    number = text[2:-1]
    code = int(number[1:], 16) if number[:1] in "xX" else int(number)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def telegram_visible(html: str) -> str:
    """The text a Telegram reader sees for `parse_mode=HTML`: tags removed, entities decoded."""
    return _ENTITY_RE.sub(_decode, _TAG_RE.sub("", html))


def text_length(text: str, target: Target) -> int:
    """Code points on WhatsApp and plain; UTF-16 code units of the visible text on Telegram."""
    if target not in TARGETS:
        raise ValueError(f"unknown render target {target!r}; expected one of {TARGETS}")
    if target == "telegram":
        return len(telegram_visible(text).encode("utf-16-le")) // 2
    return len(text)
