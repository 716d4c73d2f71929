"""Vector PDF output with reportlab: text in the embedded (subset) font, the code as one path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from comunicast.poster import icons
from comunicast.poster.fonts import Face, Fonts
from comunicast.poster.png import logo_in_code_box
from comunicast.poster.qr import Symbol

if TYPE_CHECKING:
    from PIL.Image import Image

    from comunicast.poster.layout import Layout, Line

#: A bare code's module: 20 px at 300 dpi, as in the PNG, so both print the same size.
CODE_MODULE_PT = 20 * 72 / 300
_registered: dict[Path, str] = {}


def _font_name(face: Face) -> str:
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
    from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]

    name = _registered.get(face.path)
    if name is None:
        name = f"comunicast-{len(_registered)}-{face.path.stem}"
        pdfmetrics.registerFont(TTFont(name, str(face.path)))
        _registered[face.path] = name
    return name


def _canvas(
    path: Path, width: float, height: float, title: str, author: str, font: str | None = None
) -> Any:
    from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

    # `font` replaces reportlab's initial Helvetica, so every font the PDF names is embedded.
    extra = {"initialFontName": font} if font else {}
    canvas = Canvas(str(path), pagesize=(width, height), pageCompression=1, invariant=1, **extra)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setCreator("comunicast")
    return canvas


def _draw_code(
    canvas: Any, symbol: Symbol, x: float, top: float, module: float, color: str, page_h: float
) -> None:
    """Dark modules as horizontal runs in one filled path (no seams between modules)."""
    canvas.setFillColor(color)
    path = canvas.beginPath()
    for mx, my, length in symbol.runs():
        path.rect(x + mx * module, page_h - (top + (my + 1) * module), length * module, module)
    canvas.drawPath(path, fill=1, stroke=0)


def _draw_logo(
    canvas: Any, logo: Image, box: tuple[float, float, float, float], page_h: float, dpi: int = 300
) -> None:
    """Place `logo` in the box (top-left origin), aspect kept, downsampled to `dpi` to stay small."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]

    x, y, w, h = box
    ratio = min(w / logo.width, h / logo.height)
    dw, dh = logo.width * ratio, logo.height * ratio
    target = (max(1, round(dw / 72 * dpi)), max(1, round(dh / 72 * dpi)))
    image = logo.convert("RGBA")
    if target[0] < image.width:
        image = image.resize(target, Image.Resampling.LANCZOS)
    left = x + (w - dw) / 2
    bottom = page_h - (y + (h - dh) / 2 + dh)
    canvas.drawImage(ImageReader(image), left, bottom, dw, dh, mask="auto")


def write_code(
    path: Path,
    symbol: Symbol,
    color: str,
    logo: Image | None = None,
    module: float = CODE_MODULE_PT,
) -> None:
    """A bare code on a page its own size (quiet zone included)."""
    side = symbol.size * module
    canvas = _canvas(path, side, side, symbol.text, "comunicast")
    _draw_code(canvas, symbol, 0, 0, module, color, side)
    box = logo_in_code_box(symbol, module)
    if logo is not None and box is not None:
        _draw_logo(canvas, logo, box, side)
    canvas.showPage()
    canvas.save()


def write_poster(
    path: Path,
    layout: Layout,
    symbol: Symbol,
    fonts: Fonts,
    *,
    color: str,
    logo: Image | None,
    logo_in_code: bool,
    title: str,
    author: str,
) -> None:
    """A poster as a one-page vector PDF with its fonts embedded."""
    W, H = layout.paper.width, layout.paper.height
    canvas = _canvas(path, W, H, title, author, font=_font_name(fonts.regular))
    band = layout.band
    canvas.setFillColor(layout.band_color)
    canvas.rect(band.x, H - band.bottom, band.w, band.h, fill=1, stroke=0)
    if logo is not None and layout.logo is not None:
        b = layout.logo
        _draw_logo(canvas, logo, (b.x, b.y, b.w, b.h), H)
    for circle in layout.circles:
        canvas.setFillColor(circle.color)
        canvas.circle(circle.cx, H - circle.cy, circle.r, fill=1, stroke=0)
    for line in layout.lines():
        _draw_line(canvas, line, fonts, H)
    _draw_code(canvas, symbol, layout.code.x, layout.code.y, layout.module, color, H)
    box = logo_in_code_box(symbol, layout.module, layout.code.x, layout.code.y)
    if logo_in_code and logo is not None and box is not None:
        _draw_logo(canvas, logo, box, H)
    canvas.showPage()
    canvas.save()


def _draw_line(canvas: Any, line: Line, fonts: Fonts, page_h: float) -> None:
    face = fonts.face(line.weight)
    name = _font_name(face)
    canvas.setFillColor(line.color)
    pen = line.x
    y = page_h - line.baseline
    for chunk, is_icon in icons.runs(line.text, face):
        if is_icon:
            _draw_icon(canvas, chunk, pen, y, line.size)
        else:
            canvas.setFont(name, line.size)
            canvas.drawString(pen, y, chunk)
        pen += face.width(chunk, line.size)


def _draw_icon(canvas: Any, icon: str, x: float, baseline: float, em: float) -> None:
    # One fill per shape: overlapping shapes in one path could cancel under the winding rule.
    for polygon in icons.POLYGONS[icon]:
        path = canvas.beginPath()
        (fx, fy), *rest = polygon
        path.moveTo(x + fx * em, baseline - fy * em)
        for px, py in rest:
            path.lineTo(x + px * em, baseline - py * em)
        path.close()
        canvas.drawPath(path, fill=1, stroke=0)
    for cx, cy, r in icons.DISCS[icon]:
        canvas.circle(x + cx * em, baseline - cy * em, r * em, fill=1, stroke=0)
