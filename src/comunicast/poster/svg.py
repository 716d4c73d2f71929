"""SVG output of a bare code, and a reader that rasterizes such a file to verify it."""

from __future__ import annotations

import base64
import io
import re
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from comunicast.poster.png import CODE_DPI, CODE_MODULE_PX, logo_in_code_box
from comunicast.poster.qr import Symbol

if TYPE_CHECKING:
    from PIL.Image import Image

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
#: Printed size of one module, as the PNG and PDF codes: 20 px at 300 dpi.
MODULE_MM = CODE_MODULE_PX / CODE_DPI * 25.4


def to_svg(symbol: Symbol, color: str, logo: Image | None = None) -> str:
    """The code as SVG: one path of module runs in a viewBox of modules, sized in millimetres."""
    n = symbol.size
    size_mm = f"{n * MODULE_MM:.2f}mm"
    d = "".join(f"M{x} {y}h{length}v1h-{length}z" for x, y, length in symbol.runs())
    parts = [
        (
            f'<svg xmlns="{_SVG}" xmlns:xlink="{_XLINK}" version="1.1" width="{size_mm}" '
            f'height="{size_mm}" viewBox="0 0 {n} {n}" shape-rendering="crispEdges">'
        ),
        f"<title>{_escape(symbol.text)}</title>",
        f'<rect width="{n}" height="{n}" fill="#FFFFFF"/>',
        f'<path fill="{color}" d="{d}"/>',
    ]
    box = logo_in_code_box(symbol, 1.0)
    if logo is not None and box is not None:
        parts.append(_image_element(logo, box))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _image_element(logo: Image, box: tuple[float, float, float, float]) -> str:
    x, y, w, h = box
    buffer = io.BytesIO()
    image = logo.convert("RGBA")
    # A logo inside a code is small: 600 px is plenty even at poster size.
    image.thumbnail((600, 600))
    image.save(buffer, format="PNG", optimize=True)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<image x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" '
        f'preserveAspectRatio="xMidYMid meet" xlink:href="data:image/png;base64,{data}"/>'
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_COMMAND = re.compile(r"([MmHhVvZzLl])\s*([-\d.\s,]*)")


def rasterize(svg_text: str, px_per_unit: int = 10) -> Image:
    """Draw an SVG written by `to_svg` (rect, path of M/h/v/l/z, image) with Pillow.

    Not a general SVG renderer: it reads the elements this module writes, from the file on disk,
    so verification checks what was actually written.
    """
    from PIL import Image, ImageDraw

    root = ElementTree.fromstring(svg_text)
    view = [float(v) for v in root.attrib["viewBox"].split()]
    width, height = round(view[2] * px_per_unit), round(view[3] * px_per_unit)
    canvas = Image.new("RGB", (width, height), "#FFFFFF")
    draw = ImageDraw.Draw(canvas)
    s = float(px_per_unit)
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "rect":
            x, y = float(element.get("x", 0)), float(element.get("y", 0))
            w, h = float(element.attrib["width"]), float(element.attrib["height"])
            draw.rectangle(
                (x * s, y * s, (x + w) * s - 1, (y + h) * s - 1),
                fill=element.get("fill", "#000000"),
            )
        elif tag == "path":
            for polygon in _polygons(element.attrib["d"]):
                draw.polygon(
                    [(px * s, py * s) for px, py in polygon], fill=element.get("fill", "#000000")
                )
        elif tag == "image":
            href = element.get(f"{{{_XLINK}}}href") or element.get("href") or ""
            _, _, data = href.partition("base64,")
            logo = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGBA")
            x, y = float(element.attrib["x"]), float(element.attrib["y"])
            w, h = float(element.attrib["width"]), float(element.attrib["height"])
            ratio = min(w * s / logo.width, h * s / logo.height)
            size = (max(1, round(logo.width * ratio)), max(1, round(logo.height * ratio)))
            logo = logo.resize(size)
            left = round(x * s + (w * s - size[0]) / 2)
            top = round(y * s + (h * s - size[1]) / 2)
            canvas.paste(logo, (left, top), logo)
    return canvas


def _polygons(d: str) -> list[list[tuple[float, float]]]:
    polygons: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    x = y = 0.0
    for command, args in _COMMAND.findall(d):
        numbers = [float(v) for v in re.split(r"[\s,]+", args.strip()) if v]
        if command in "Mm":
            if current:
                polygons.append(current)
            x, y = (numbers[0], numbers[1]) if command == "M" else (x + numbers[0], y + numbers[1])
            current = [(x, y)]
        elif command in "Ll":
            x, y = (numbers[0], numbers[1]) if command == "L" else (x + numbers[0], y + numbers[1])
            current.append((x, y))
        elif command in "Hh":
            x = numbers[0] if command == "H" else x + numbers[0]
            current.append((x, y))
        elif command in "Vv":
            y = numbers[0] if command == "V" else y + numbers[0]
            current.append((x, y))
        elif command in "Zz":
            if current:
                polygons.append(current)
            current = []
    if current:
        polygons.append(current)
    return polygons
