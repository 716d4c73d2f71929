"""Measuring and fitting text with a font's own metrics: widths, ink extents, wrapping, sizes.

Sizes are in points; glyphs are placed at their advance widths without kerning, exactly as the
PNG and PDF renderers draw them.
"""

from __future__ import annotations

from functools import lru_cache

from comunicast.poster.fonts import ELLIPSIS, ICONS, Face

LEADING = 1.25


@lru_cache(maxsize=8192)
def _em(text: str, face: Face) -> tuple[float, float, float]:
    """(leftmost ink, rightmost ink, advance) of `text` at one em, relative to its pen start."""
    pen = 0.0
    left, right = 0.0, 0.0
    for char in text:
        x0, _y0, x1, _y1 = face.ink(char)
        if x1 > x0:
            left = min(left, pen + x0)
            right = max(right, pen + x1)
        pen += face.advance(char)
    return left, right, pen


def _join(
    a: tuple[float, float, float], b: tuple[float, float, float]
) -> tuple[float, float, float]:
    return min(a[0], a[2] + b[0]), max(a[1], a[2] + b[1]), a[2] + b[2]


def _em_span(m: tuple[float, float, float]) -> float:
    return max(m[1], m[2]) - m[0]


def extent(text: str, face: Face, size: float) -> tuple[float, float]:
    """Horizontal ink extent of `text` relative to its pen start: (left, right), advance-safe."""
    left, right, advance = _em(text, face)
    return left * size, max(right, advance) * size


def span(text: str, face: Face, size: float) -> float:
    """Width the ink of `text` needs."""
    return _em_span(_em(text, face)) * size


def wrap(text: str, face: Face, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word longer than the line (a URL) is broken between characters."""
    limit = width / size
    space = _em(" ", face)
    lines: list[str] = []
    current, current_m = "", (0.0, 0.0, 0.0)
    for word in _words(text):
        word_m = _em(word, face)
        candidate_m = _join(_join(current_m, space), word_m) if current else word_m
        if _em_span(candidate_m) <= limit:
            current = f"{current} {word}" if current else word
            current_m = candidate_m
            continue
        if current:
            lines.append(current)
        while len(word) > 1 and _em_span(word_m) > limit:
            lo, hi = 1, len(word) - 1  # the longest prefix that fits (at least one character)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if _em_span(_em(word[:mid], face)) <= limit:
                    lo = mid
                else:
                    hi = mid - 1
            lines.append(word[:lo])
            word = word[lo:]
            word_m = _em(word, face)
        current, current_m = word, word_m
    if current:
        lines.append(current)
    return lines


def _words(text: str) -> list[str]:
    """Words to wrap; an icon standing alone stays with the word before it (no orphan 🔔)."""
    words: list[str] = []
    for word in text.split(" "):
        if words and word and all(c in ICONS for c in word):
            words[-1] += " " + word
        else:
            words.append(word)
    return words


def block_height(n_lines: int, face: Face, size: float) -> float:
    """Height n lines need: guaranteed to hold any glyph of the font."""
    if n_lines == 0:
        return 0.0
    return (n_lines - 1) * LEADING * size + (face.top + face.bottom) * size


def truncate(line: str, face: Face, size: float, width: float) -> str:
    """`line` shortened to fit `width` with a final ellipsis."""
    while line and span(line + ELLIPSIS, face, size) > width:
        line = line[:-1].rstrip()
    return line + ELLIPSIS if face.has(ELLIPSIS) else line


def fit(
    text: str,
    face: Face,
    *,
    width: float,
    height: float,
    max_size: float,
    min_size: float,
    max_lines: int,
) -> tuple[list[str], float]:
    """The largest size at which `text` fits the room; at the minimum size, cut with an ellipsis."""
    size = max_size
    while True:
        lines = wrap(text, face, size, width)
        if len(lines) <= max_lines and block_height(len(lines), face, size) <= height:
            return lines, size
        if size <= min_size:
            break
        size = max(min_size, size * 0.95)
    room = 1
    while room < max_lines and block_height(room + 1, face, size) <= height:
        room += 1
    if block_height(room, face, size) > height:  # not even one line at the minimum size
        size = height / (face.top + face.bottom)
    kept = lines[:room]
    if len(lines) > room:
        kept[-1] = truncate(kept[-1], face, size, width)
    return kept, size
