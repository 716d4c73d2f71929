"""Fonts for posters: the bundled Titillium Web (SIL OFL 1.1) or a TTF named in config.

Metrics come from the font file itself (advance widths, cmap, ink boxes), so the layout, the
PNG and the PDF renderers place every glyph at the same position.
"""

from __future__ import annotations

import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from comunicast.errors import ConfigError
from comunicast.i18n import _

REGULAR = "TitilliumWeb-Regular.ttf"
SEMIBOLD = "TitilliumWeb-SemiBold.ttf"
BOLD = "TitilliumWeb-Bold.ttf"
LICENSE = "OFL.txt"

#: Characters drawn as vector icons when the font has no glyph for them.
BELL = "\U0001f514"
ICONS = frozenset({BELL})
#: Invisible or joining characters that travel with emoji; never drawn.
_INVISIBLE = frozenset({"\ufe0e", "\ufe0f", "\u200d", "\u200b", "\u2060"})
_SPACES = frozenset({"\u00a0", "\u2009", "\u202f", "\u3000"})
ELLIPSIS = "\u2026"


def bundled(name: str) -> Path:
    """A file shipped in `comunicast/poster/fonts/` as a real path (extracted when zipped)."""
    resource = resources.files("comunicast.poster").joinpath("fonts", name)
    if isinstance(resource, Path):
        return resource
    return _extracted(name, resource.read_bytes())


@cache
def _extracted(name: str, data: bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="comunicast-fonts-"))
    path = folder / name
    path.write_bytes(data)
    return path


@dataclass(frozen=True, eq=False)
class Face:
    """One TTF: what it can draw and how wide; units are em (multiply by the font size)."""

    path: Path
    name: str
    advances: dict[int, float]
    default_advance: float
    top: float  # highest ink of any glyph above the baseline, in em (the font's bounding box)
    bottom: float  # lowest ink of any glyph below the baseline, in em, positive
    _ink: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)

    def has(self, char: str) -> bool:
        """True when the font has a glyph for `char`."""
        return ord(char) in self.advances

    def advance(self, char: str) -> float:
        """Advance width of `char` in em (icons are one em wide)."""
        if char in ICONS and not self.has(char):
            return 1.0
        return self.advances.get(ord(char), self.default_advance)

    def width(self, text: str, size: float) -> float:
        """Advance width of `text` at `size` (no kerning: PNG and PDF place glyphs alike)."""
        return sum(self.advance(c) for c in text) * size

    def ink(self, char: str) -> tuple[float, float, float, float]:
        """Ink box of `char` relative to its origin on the baseline, in em, y down: (x0, y0, x1, y1)."""
        box = self._ink.get(char)
        if box is None:
            box = self._ink[char] = _ink_box(self, char)
        return box


def _ink_box(face: Face, char: str) -> tuple[float, float, float, float]:
    if char in ICONS and not face.has(char):
        return ICON_INK
    if char.isspace():
        return (0.0, 0.0, 0.0, 0.0)
    font = _pil_font(face.path)
    x0, y0, x1, y1 = font.getbbox(char, anchor="ls")
    if x1 <= x0 or y1 <= y0:
        return (0.0, 0.0, 0.0, 0.0)
    unit = float(_INK_SIZE)
    return (x0 / unit, y0 / unit, x1 / unit, y1 / unit)


#: Where the vector bell is drawn inside its one-em cell (em, y down from the baseline).
ICON_INK = (0.14, -0.78, 0.86, 0.01)
_INK_SIZE = 1000


@cache
def _pil_font(path: Path) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(path), _INK_SIZE, layout_engine=ImageFont.Layout.BASIC)


@cache
def load_face(path: Path) -> Face:
    """Read a TrueType font's metrics; a missing or unreadable file is a ConfigError."""
    from reportlab.pdfbase.ttfonts import TTFontFace  # type: ignore[import-untyped]

    try:
        tt = TTFontFace(str(path))
    except Exception as exc:  # noqa: BLE001 - reportlab raises TTFError, struct.error, OSError…
        raise ConfigError(
            _("cannot use font {path}: {reason}").format(path=path, reason=exc),
            hint=_("poster.font and poster.font_bold must be TrueType (.ttf) files"),
        ) from None
    scale = 1.0 / 1000.0  # reportlab normalizes widths to 1000 units per em
    advances = {code: w * scale for code, w in tt.charWidths.items() if code in tt.charToGlyph}
    _xmin, ymin, _xmax, ymax = tt.bbox
    name = str(tt.name.decode() if isinstance(tt.name, bytes) else tt.name)
    return Face(
        path=path,
        name=name,
        advances=advances,
        default_advance=tt.defaultWidth * scale,
        top=ymax * scale,
        bottom=-ymin * scale,
    )


@dataclass(frozen=True)
class Fonts:
    """The two weights a poster uses."""

    regular: Face
    bold: Face

    def face(self, weight: str) -> Face:
        """`regular` or `bold`."""
        return self.bold if weight == "bold" else self.regular


def poster_fonts(regular: Path | None = None, bold: Path | None = None) -> Fonts:
    """The configured fonts, defaulting to the bundled Titillium Web."""
    for path in (regular, bold):
        if path is not None and not path.is_file():
            raise ConfigError(
                _("font file {path} does not exist").format(path=path),
                hint=_("poster.font / poster.font_bold are paths relative to comunicast.yaml"),
            )
    return Fonts(
        regular=load_face(regular or bundled(REGULAR)),
        bold=load_face(bold or regular or bundled(BOLD)),
    )


def drawable(text: str, face: Face) -> str:
    """`text` reduced to what `face` can draw: NFC, icons kept, other missing glyphs dropped."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if char in _SPACES or char in "\t\n\r":
            char = " "
        if char in _INVISIBLE:
            continue
        if face.has(char) or char in ICONS:
            out.append(char)
            continue
        # A letter with a diacritic the font lacks still reads well without it.
        base = unicodedata.normalize("NFD", char)[0]
        if base != char and face.has(base):
            out.append(base)
    return " ".join("".join(out).split())
