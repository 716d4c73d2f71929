"""Vector icons drawn in place of emoji the font lacks (🔔), shared by the PNG and PDF renderers.

Coordinates are em units relative to the pen on the baseline, y growing downwards; the icon's
advance is one em.
"""

from __future__ import annotations

import math

from comunicast.poster.fonts import BELL, Face


def _bell_outline() -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    # Dome: upper half of an ellipse, left to right.
    cx, cy, rx, ry = 0.5, -0.5, 0.24, 0.22
    for i in range(17):
        angle = math.pi - math.pi * i / 16
        points.append((cx + rx * math.cos(angle), cy - ry * math.sin(angle)))
    # Right side flaring to the rim, the rim, the left side back up.
    points += [
        (0.76, -0.32),
        (0.86, -0.22),
        (0.86, -0.15),
        (0.14, -0.15),
        (0.14, -0.22),
        (0.24, -0.32),
    ]
    return points


#: Filled polygons and discs (cx, cy, r) making up each icon.
POLYGONS: dict[str, list[list[tuple[float, float]]]] = {BELL: [_bell_outline()]}
DISCS: dict[str, list[tuple[float, float, float]]] = {
    BELL: [(0.5, -0.075, 0.085), (0.5, -0.735, 0.045)]
}


def runs(text: str, face: Face) -> list[tuple[str, bool]]:
    """`text` split into (chunk, is_icon) runs: the font draws text, shapes draw missing icons."""
    out: list[tuple[str, bool]] = []
    current = ""
    for char in text:
        if char in POLYGONS and not face.has(char):
            if current:
                out.append((current, False))
                current = ""
            out.append((char, True))
        else:
            current += char
    if current:
        out.append((current, False))
    return out
