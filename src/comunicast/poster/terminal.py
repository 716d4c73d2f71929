"""The code as text: half-block characters, two modules per character cell (square on screen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from comunicast.poster.qr import Symbol

if TYPE_CHECKING:
    from PIL.Image import Image

FULL, UPPER, LOWER, EMPTY = "█", "▀", "▄", " "
_CELLS = {(True, True): FULL, (True, False): UPPER, (False, True): LOWER, (False, False): EMPTY}
_PARSE = {v: k for k, v in _CELLS.items()}


def to_lines(symbol: Symbol) -> list[str]:
    """Rows of half blocks; glyph ink is a dark module, so print it dark on a light background."""
    rows = [list(row) for row in symbol.dark]
    if len(rows) % 2:
        rows.append([False] * symbol.size)
    return [
        "".join(_CELLS[(top, bottom)] for top, bottom in zip(rows[i], rows[i + 1]))
        for i in range(0, len(rows), 2)
    ]


def from_lines(lines: list[str]) -> list[list[bool]]:
    """The module matrix back from `to_lines` output (to verify what is printed)."""
    matrix: list[list[bool]] = []
    for line in lines:
        pairs = [_PARSE.get(c, (False, False)) for c in line]
        matrix.append([top for top, _ in pairs])
        matrix.append([bottom for _, bottom in pairs])
    return matrix


def matrix_image(matrix: list[list[bool]], module_px: int = 8) -> Image:
    """A module matrix drawn black on white with a 4-module margin, for decoding."""
    from PIL import Image

    width = max((len(r) for r in matrix), default=0)
    n_w, n_h = width + 8, len(matrix) + 8
    image = Image.new("L", (n_w, n_h), 255)
    image.putdata(
        [
            0
            if (
                0 <= y - 4 < len(matrix)
                and 0 <= x - 4 < len(matrix[y - 4])
                and matrix[y - 4][x - 4]
            )
            else 255
            for y in range(n_h)
            for x in range(n_w)
        ]
    )
    return image.resize((n_w * module_px, n_h * module_px), Image.Resampling.NEAREST)
