"""Raster output with Pillow: posters and bare codes, a whole number of pixels per module."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comunicast.poster import icons
from comunicast.poster.fonts import Fonts
from comunicast.poster.qr import Symbol, parse_color

if TYPE_CHECKING:
    from PIL.Image import Image

    from comunicast.poster.layout import Box, Layout, Line

#: Pixels per module of a bare code: 20 px at 300 dpi is 1.7 mm, ~6 cm for an invite link.
CODE_MODULE_PX = 20
CODE_DPI = 300


@cache
def _font(path: Path, size_px: float) -> Any:
    from PIL import ImageFont

    # BASIC layout: no kerning or ligatures, so glyphs sit where the layout (and the PDF) puts them.
    return ImageFont.truetype(str(path), size_px, layout_engine=ImageFont.Layout.BASIC)


def code_image(symbol: Symbol, module_px: int, color: str) -> Image:
    """The symbol with its quiet zone, `module_px` pixels per module, dark modules in `color`."""
    from PIL import Image

    n = symbol.size
    mask = Image.new("1", (n, n), 0)
    mask.putdata([1 if dark else 0 for row in symbol.dark for dark in row])
    mask = mask.resize((n * module_px, n * module_px), Image.Resampling.NEAREST)
    image = Image.new("RGB", mask.size, "#FFFFFF")
    image.paste(parse_color(color), (0, 0), mask)
    return image


def paste_logo(canvas: Image, logo: Image, box: tuple[float, float, float, float]) -> None:
    """Scale `logo` into the pixel box (x, y, w, h), keeping its aspect ratio, centred."""
    from PIL import Image

    x, y, w, h = box
    ratio = min(w / logo.width, h / logo.height)
    size = (max(1, round(logo.width * ratio)), max(1, round(logo.height * ratio)))
    scaled = logo.convert("RGBA").resize(size, Image.Resampling.LANCZOS)
    left = round(x + (w - size[0]) / 2)
    top = round(y + (h - size[1]) / 2)
    canvas.paste(scaled, (left, top), scaled)


def logo_in_code_box(
    symbol: Symbol, module: float, x0: float = 0.0, y0: float = 0.0
) -> tuple[float, float, float, float] | None:
    """Where a logo goes inside the code's light pad (half a module of clearance), in output units."""
    if symbol.pad is None:
        return None
    px, py, side = symbol.pad
    inset = 0.5
    return (
        x0 + (px + inset) * module,
        y0 + (py + inset) * module,
        (side - 2 * inset) * module,
        (side - 2 * inset) * module,
    )


def render_code(
    symbol: Symbol, color: str, logo: Image | None = None, module_px: int = CODE_MODULE_PX
) -> Image:
    """A bare code as an image."""
    image = code_image(symbol, module_px, color)
    box = logo_in_code_box(symbol, module_px)
    if logo is not None and box is not None:
        paste_logo(image, logo, box)
    return image


def render_poster(
    layout: Layout,
    symbol: Symbol,
    fonts: Fonts,
    *,
    color: str,
    logo: Image | None,
    logo_in_code: bool,
) -> Image:
    """A poster as an RGB image at the paper's DPI."""
    from PIL import Image, ImageDraw

    paper = layout.paper
    scale = paper.dpi / 72.0
    image = Image.new("RGB", paper.pixels, "#FFFFFF")
    draw = ImageDraw.Draw(image)
    band = layout.band
    draw.rectangle(_px(band, scale, inclusive=True), fill=layout.band_color)
    if logo is not None and layout.logo is not None:
        paste_logo(image, logo, _xywh(layout.logo, scale))
    for circle in layout.circles:
        draw.ellipse(_px(circle.box, scale, inclusive=True), fill=circle.color)
    for line in layout.lines():
        draw_line(draw, line, fonts, scale)
    module_px = round(layout.module * scale)
    code = code_image(symbol, module_px, color)
    origin = (round(layout.code.x * scale), round(layout.code.y * scale))
    image.paste(code, origin)
    box = logo_in_code_box(symbol, module_px, *origin)
    if logo_in_code and logo is not None and box is not None:
        paste_logo(image, logo, box)
    return image


def draw_line(draw: Any, line: Line, fonts: Fonts, scale: float) -> None:
    """Draw one text line glyph by glyph at the layout's advances; icons as shapes."""
    face = fonts.face(line.weight)
    font = _font(face.path, line.size * scale)
    pen = line.x * scale
    baseline = line.baseline * scale
    em = line.size * scale
    for chunk, is_icon in icons.runs(line.text, face):
        if is_icon:
            _draw_icon(draw, chunk, pen, baseline, em, line.color)
            pen += face.advance(chunk) * em
            continue
        for char in chunk:
            if not char.isspace():
                draw.text((pen, baseline), char, font=font, fill=line.color, anchor="ls")
            pen += face.advance(char) * em


def _draw_icon(draw: Any, icon: str, x: float, baseline: float, em: float, color: str) -> None:
    for polygon in icons.POLYGONS[icon]:
        draw.polygon([(x + px * em, baseline + py * em) for px, py in polygon], fill=color)
    for cx, cy, r in icons.DISCS[icon]:
        draw.ellipse(
            (
                x + (cx - r) * em,
                baseline + (cy - r) * em,
                x + (cx + r) * em,
                baseline + (cy + r) * em,
            ),
            fill=color,
        )


def _xywh(box: Box, scale: float) -> tuple[float, float, float, float]:
    return (box.x * scale, box.y * scale, box.w * scale, box.h * scale)


def _px(box: Box, scale: float, *, inclusive: bool = False) -> tuple[int, int, int, int]:
    x0, y0 = round(box.x * scale), round(box.y * scale)
    x1, y1 = round(box.right * scale), round(box.bottom * scale)
    # Pillow's rectangle and ellipse include their last pixel.
    return (x0, y0, x1 - 1, y1 - 1) if inclusive else (x0, y0, x1, y1)


def save(image: Image, path: Path, dpi: int) -> None:
    """Write a PNG carrying its DPI; light compression: a flat-colour A4 poster stays ~300 KB."""
    image.save(path, format="PNG", dpi=(dpi, dpi), compress_level=1)  # speed over bytes
