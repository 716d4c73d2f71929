"""Text helpers shared by the rules: URL masking, accent folding, sentences, words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache

#: URLs and Markdown link destinations; blanked out before text rules look at words.
_URLISH = re.compile(
    r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"  # [label](destination "title")
    r"|<[a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*>"  # <https://…> autolinks
    # scheme://…, javascript:…, data:…, www.…; the lookbehind keeps the regex from retrying at
    # every letter of every word.
    r"|(?<![\w+.-])(?:[a-zA-Z][a-zA-Z0-9+.-]*://|(?:javascript|data):|www\.)[^\s<>]*",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+")
#: Sentence ends: . ! ? … and line ends (a dot before a digit, as in 1.200 or 8.30, is not one).
_SPLIT = re.compile(r"[.!?…]+(?!\d)|\n")


def mask_urls(text: str) -> str:
    """`text` with URLs and link destinations replaced by spaces of the same length."""
    return _URLISH.sub(lambda m: " " * len(m.group(0)), text)


def strip_urls(text: str) -> str:
    """`text` without URLs (a reader does not read them as words)."""
    return _URLISH.sub(" ", text)


@cache
def _fold_char(ch: str) -> str:
    base = unicodedata.normalize("NFD", ch)[0]
    low = base.lower()
    return low if len(low) == 1 else base


_FOLD_TABLE = {i: _fold_char(chr(i)) for i in range(0x80, 0x250) if _fold_char(chr(i)) != chr(i)}
_FOLD_TABLE.update({0x2019: "'", 0x2018: "'", 0x00A0: " "})


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _fold_match(match: re.Match[str]) -> str:
    ch = match.group(0)
    return _FOLD_TABLE.get(ord(ch), ch)


def fold(text: str) -> str:
    """Lowercase, accents removed, typographic apostrophes straightened; same length as `text`."""
    # Only the few non-ASCII characters need the table (str.translate looks up every character).
    folded = _NON_ASCII.sub(_fold_match, text).lower()
    if len(folded) == len(text):
        return folded
    # Rare characters whose lowercase is longer (İ): fold them one by one to keep positions.
    return "".join(_fold_char(c) for c in _NON_ASCII.sub(_fold_match, text))


def sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) pairs: split on . ! ? … and line ends, empty pieces skipped."""
    start = 0
    for match in _SPLIT.finditer(text):
        piece = text[start : match.start()]
        if piece.strip():
            yield start, piece
        start = match.end()
    piece = text[start:]
    if piece.strip():
        yield start, piece



def split_sentences(text: str) -> list[str]:
    """The pieces of `text` between sentence ends (some may be blank)."""
    return _SPLIT.split(text)


_HAS_WORD = re.compile(r"[^\W_]")


def has_word(text: str) -> bool:
    """True when `text` holds at least one letter or digit."""
    return _HAS_WORD.search(text) is not None


def words(text: str) -> list[str]:
    """Words: runs of letters or digits (an apostrophe separates `l'anno` into two)."""
    return _WORD.findall(text)


_NOT_LETTER = re.compile(r"[\W\d_]+")


def count_letters(text: str) -> int:
    """Letters only: no digits, punctuation or spaces."""
    return len(_NOT_LETTER.sub("", text))
