"""Where everything goes on a poster, for each paper, independent of the output format.

Units are points (1/72 inch), origin at the top left, y growing downwards. Every text line
carries its ink box, computed from the font's own glyph metrics, so tests can prove that
nothing leaves the page margins whatever the texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from comunicast.poster.fonts import Face, Fonts, drawable
from comunicast.poster.qr import contrast
from comunicast.poster.textfit import LEADING, block_height, extent, fit, span, truncate, wrap
from comunicast.poster.texts import PosterTexts

INK = "#1A1A1A"
MUTED = "#4D4D4D"
WHITE = "#FFFFFF"


@dataclass(frozen=True)
class Paper:
    """A page size; `screen` papers are sized in pixels for social media."""

    name: str
    width: float
    height: float
    dpi: int
    screen: bool = False

    @property
    def pixels(self) -> tuple[int, int]:
        """Size of the PNG rendering."""
        scale = self.dpi / 72.0
        return (round(self.width * scale), round(self.height * scale))


_MM = 72.0 / 25.4
PAPERS: dict[str, Paper] = {
    "a4": Paper("a4", 210 * _MM, 297 * _MM, 300),
    "a3": Paper("a3", 297 * _MM, 420 * _MM, 300),
    "a5": Paper("a5", 148 * _MM, 210 * _MM, 300),
    # 1080-pixel formats for social media: one point per pixel at 72 dpi.
    "square": Paper("square", 1080, 1080, 72, screen=True),
    "story": Paper("story", 1080, 1920, 72, screen=True),
}


@dataclass(frozen=True)
class Box:
    """A rectangle: left, top, width, height."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def contains(self, other: Box, tolerance: float = 1e-6) -> bool:
        """True when `other` lies inside this box."""
        return (
            other.x >= self.x - tolerance
            and other.y >= self.y - tolerance
            and other.right <= self.right + tolerance
            and other.bottom <= self.bottom + tolerance
        )

    def overlaps(self, other: Box) -> bool:
        """True when the two boxes share some area."""
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )


def union(boxes: list[Box]) -> Box:
    """The smallest box holding all `boxes`."""
    x0 = min(b.x for b in boxes)
    y0 = min(b.y for b in boxes)
    x1 = max(b.right for b in boxes)
    y1 = max(b.bottom for b in boxes)
    return Box(x0, y0, x1 - x0, y1 - y0)


@dataclass(frozen=True)
class Line:
    """One line of text: pen start on the baseline, size, weight, colour and its ink box."""

    text: str
    x: float
    baseline: float
    size: float
    weight: str  # "regular" | "bold"
    color: str
    ink: Box


@dataclass(frozen=True)
class Block:
    """A text element: organization, title, step1-3, step1-3.number, url, privacy."""

    role: str
    lines: tuple[Line, ...]
    area: Box  # the room it was given

    @property
    def ink(self) -> Box:
        return union([line.ink for line in self.lines])


@dataclass(frozen=True)
class Circle:
    """A filled disc (the number badge of a step)."""

    cx: float
    cy: float
    r: float
    color: str

    @property
    def box(self) -> Box:
        return Box(self.cx - self.r, self.cy - self.r, 2 * self.r, 2 * self.r)


@dataclass(frozen=True)
class Layout:
    """A poster, fully placed."""

    paper: Paper
    margin: float
    band: Box
    band_color: str
    logo: Box | None
    code: Box  # the symbol with its quiet zone
    module: float  # side of one module, in points
    blocks: tuple[Block, ...]
    circles: tuple[Circle, ...]

    @property
    def page(self) -> Box:
        return Box(0, 0, self.paper.width, self.paper.height)

    @property
    def content(self) -> Box:
        """The page inside its margins."""
        m = self.margin
        return Box(m, m, self.paper.width - 2 * m, self.paper.height - 2 * m)

    def lines(self) -> Iterator[Line]:
        """Every text line on the poster."""
        for block in self.blocks:
            yield from block.lines

    def block(self, role: str) -> Block:
        """The block playing `role`."""
        for block in self.blocks:
            if block.role == role:
                return block
        raise KeyError(role)


# -- placing text ---------------------------------------------------------------------------


def ink_box(text: str, face: Face, size: float, x: float, baseline: float) -> Box:
    """The ink box of a line drawn with its pen at (x, baseline)."""
    left, right = extent(text, face, size)
    top, bottom = 0.0, 0.0
    for char in text:
        _x0, y0, _x1, y1 = face.ink(char)
        if y1 > y0:
            top = min(top, y0 * size)
            bottom = max(bottom, y1 * size)
    if top == bottom:  # nothing visible: a zero-height box on the baseline
        return Box(x + left, baseline, right - left, 0.0)
    return Box(x + left, baseline + top, right - left, bottom - top)


def place(
    lines: list[str],
    face: Face,
    size: float,
    area: Box,
    *,
    weight: str,
    color: str,
    align: str = "center",
    valign: str = "top",
) -> tuple[Line, ...]:
    """Position wrapped lines inside `area`."""
    total = block_height(len(lines), face, size)
    top = area.y
    if valign == "center":
        top = area.y + (area.h - total) / 2
    elif valign == "bottom":
        top = area.bottom - total
    out: list[Line] = []
    for i, text in enumerate(lines):
        baseline = top + face.top * size + i * LEADING * size
        left, right = extent(text, face, size)
        if align == "center":
            x = area.x + (area.w - (right - left)) / 2 - left
        else:
            x = area.x - left
        out.append(
            Line(text, x, baseline, size, weight, color, ink_box(text, face, size, x, baseline))
        )
    return tuple(out)


def text_block(
    role: str,
    text: str,
    fonts: Fonts,
    area: Box,
    *,
    weight: str,
    color: str,
    max_size: float,
    min_size: float,
    max_lines: int,
    align: str = "center",
    valign: str = "top",
) -> Block:
    """Fit `text` into `area` and place it."""
    face = fonts.face(weight)
    clean = drawable(text, face)
    lines, size = fit(
        clean,
        face,
        width=area.w,
        height=area.h,
        max_size=max_size,
        min_size=min_size,
        max_lines=max_lines,
    )
    placed = place(lines, face, size, area, weight=weight, color=color, align=align, valign=valign)
    return Block(role, placed, area)


def shift(block: Block, dy: float) -> Block:
    """`block` moved down by `dy` (up when negative)."""
    lines = tuple(
        Line(
            line.text,
            line.x,
            line.baseline + dy,
            line.size,
            line.weight,
            line.color,
            Box(line.ink.x, line.ink.y + dy, line.ink.w, line.ink.h),
        )
        for line in block.lines
    )
    area = block.area
    return Block(block.role, lines, Box(area.x, area.y + dy, area.w, area.h))


def _shrink_to_content(block: Block, face: Face) -> Block:
    """The block's area reduced to the height its lines take (from the top)."""
    if not block.lines:
        return Block(block.role, block.lines, Box(block.area.x, block.area.y, block.area.w, 0))
    size = block.lines[0].size
    h = block_height(len(block.lines), face, size)
    return Block(block.role, block.lines, Box(block.area.x, block.area.y, block.area.w, h))


# -- colours --------------------------------------------------------------------------------


def on_color(background: str) -> str:
    """White or near-black, whichever reads better on `background`."""
    return WHITE if contrast(WHITE, background) >= contrast(INK, background) else INK


def accent(brand: str) -> str:
    """The brand colour when it reads on white as text (4.5:1), else near-black."""
    return brand if contrast(brand, WHITE) >= 4.5 else INK


# -- the poster -----------------------------------------------------------------------------


def layout_poster(
    paper: Paper,
    texts: PosterTexts,
    fonts: Fonts,
    *,
    modules: int,
    brand: str,
    logo_aspect: float | None = None,
) -> Layout:
    """Place band, organization, logo, title, code, steps, URL and privacy line on `paper`.

    `modules` is the code's side in modules (quiet zone included); `logo_aspect` is the logo's
    width / height, or None without a logo. The code gets all the room the texts leave, with a
    whole number of pixels per module at the paper's DPI.
    """
    W, H = paper.width, paper.height
    side_by_side = H / W < 1.2  # square: code on the left, steps on the right
    u = W / 100.0  # proportions scale with the page width
    m = 6 * u
    blocks: list[Block] = []
    circles: list[Circle] = []

    # Header band, full bleed, with the logo and the organization's name inside the margins.
    band_h = (13 if side_by_side else 15) * u
    band = Box(0, 0, W, band_h)
    pad = 2.5 * u
    logo: Box | None = None
    name_x = m
    if logo_aspect:
        lh = band_h - 2 * pad
        lw = lh * logo_aspect
        if lw > 30 * u:
            lw, lh = 30 * u, 30 * u / logo_aspect
        logo = Box(m, (band_h - lh) / 2, lw, lh)
        name_x = logo.right + 3 * u
    name_area = Box(name_x, pad, W - m - name_x, band_h - 2 * pad)
    blocks.append(
        text_block(
            "organization",
            texts.organization,
            fonts,
            name_area,
            weight="bold",
            color=on_color(brand),
            max_size=5.2 * u,
            min_size=2.2 * u,
            max_lines=2,
            align="left" if logo else "center",
            valign="center",
        )
    )

    # Title under the band.
    width = W - 2 * m
    y = band_h + 4.5 * u
    title = text_block(
        "title",
        texts.title,
        fonts,
        Box(m, y, width, (13 if side_by_side else 20) * u),
        weight="bold",
        color=accent(brand),
        max_size=(5.8 if side_by_side else 7.0) * u,
        min_size=3.0 * u,
        max_lines=2 if side_by_side else 3,
    )
    title = _shrink_to_content(title, fonts.bold)
    blocks.append(title)
    top = title.area.bottom + 1.0 * u  # the code's quiet zone adds its own white space

    # From the bottom margin up: privacy line, then the URL.
    bottom = H - m
    privacy_h = (7 if side_by_side else 9) * u
    privacy = text_block(
        "privacy",
        texts.privacy,
        fonts,
        Box(m, bottom - privacy_h, width, privacy_h),
        weight="regular",
        color=MUTED,
        max_size=2.3 * u,
        min_size=1.5 * u,
        max_lines=4,
        valign="bottom",
    )
    blocks.append(privacy)
    bottom = min(line.ink.y for line in privacy.lines) if privacy.lines else bottom
    bottom -= 2.0 * u
    url_h = 6.5 * u
    url = text_block(
        "url",
        texts.url,
        fonts,
        Box(m, bottom - url_h, width, url_h),
        weight="bold",
        color=INK,
        max_size=3.0 * u,
        min_size=1.8 * u,
        max_lines=2,
        valign="bottom",
    )
    blocks.append(url)
    bottom = min(line.ink.y for line in url.lines) if url.lines else bottom
    bottom -= 3.0 * u

    # Steps: below the code on portrait papers, beside it on square ones.
    if side_by_side:
        code_side = min(bottom - top, 50 * u)
        steps_area = Box(m + code_side + 3 * u, top, W - 2 * m - code_side - 3 * u, bottom - top)
        step_blocks, step_circles = _steps(
            texts.steps, fonts, steps_area, u, brand, max_size=4.0 * u, valign="center"
        )
        code_area = Box(m, top, code_side, bottom - top)
    else:
        steps_h = 30 * u
        steps_area = Box(m, bottom - steps_h, width, steps_h)
        step_blocks, step_circles = _steps(
            texts.steps, fonts, steps_area, u, brand, max_size=4.2 * u, valign="bottom"
        )
        steps_top = min(b.ink.y for b in step_blocks) if step_blocks else bottom
        steps_top = min([steps_top] + [c.box.y for c in step_circles])
        code_area = Box(m, top, width, steps_top - 1.5 * u - top)
    blocks.extend(step_blocks)
    circles.extend(step_circles)

    # The code: as large as the room allows, whole pixels per module.
    room = min(code_area.w, code_area.h)
    px_per_pt = paper.dpi / 72.0
    module_px = max(1, int(room * px_per_pt // modules))
    module = module_px / px_per_pt
    side = module * modules
    code = Box(
        code_area.x + (code_area.w - side) / 2,
        code_area.y + (code_area.h - side) / 2,
        side,
        side,
    )
    if side_by_side:
        code = Box(code_area.x, code_area.y + (code_area.h - side) / 2, side, side)
    else:
        # A code limited by the page width leaves height over: share it above the code,
        # between the code and the steps, and below the steps, instead of one big hole.
        spare = code_area.h - side
        code = Box(code.x, code_area.y + spare / 3, side, side)
        n = len(blocks) - len(step_blocks)
        blocks[n:] = [shift(b, -spare / 3) for b in step_blocks]
        circles = [Circle(c.cx, c.cy - spare / 3, c.r, c.color) for c in circles]
    return Layout(
        paper=paper,
        margin=m,
        band=band,
        band_color=brand,
        logo=logo,
        code=code,
        module=module,
        blocks=tuple(blocks),
        circles=tuple(circles),
    )


def _steps(
    steps: tuple[str, str, str],
    fonts: Fonts,
    area: Box,
    u: float,
    brand: str,
    *,
    max_size: float,
    valign: str,
) -> tuple[list[Block], list[Circle]]:
    """Three numbered steps, one common size, stacked from the bottom of `area`, centred as a group."""
    face = fonts.regular
    clean = [drawable(s, face) for s in steps]
    min_size = 2.2 * u
    size = max_size
    while True:
        diameter = 1.5 * size
        indent = diameter + 0.6 * size
        text_w = area.w - indent
        wrapped = [wrap(s, face, size, text_w) for s in clean]
        heights = [max(block_height(len(w), face, size), diameter) for w in wrapped]
        total = sum(heights) + 2 * 0.7 * size
        if (all(len(w) <= 2 for w in wrapped) and total <= area.h) or size <= min_size:
            break
        size = max(min_size, size * 0.95)
    # At the minimum size, the longest steps lose their last lines (with an ellipsis) until all fit.
    kept = [list(lines) for lines in wrapped]
    cut = [False] * len(kept)

    def total_height() -> float:
        return sum(max(block_height(len(k), face, size), diameter) for k in kept) + 2 * 0.7 * size

    while total_height() > area.h and any(len(k) > 1 for k in kept):
        longest = max(range(len(kept)), key=lambda i: len(kept[i]))
        kept[longest].pop()
        cut[longest] = True
    for i, lines in enumerate(kept):
        if cut[i]:
            lines[-1] = truncate(lines[-1], face, size, text_w)
    heights = [max(block_height(len(k), face, size), diameter) for k in kept]
    total = total_height()
    group_w = indent + max((span(line, face, size) for k in kept for line in k), default=0.0)
    x = area.x + max(0.0, (area.w - group_w) / 2)
    y = area.y
    if area.h > total:
        y = area.y + (area.h - total) / 2 if valign == "center" else area.bottom - total
    blocks: list[Block] = []
    circles: list[Circle] = []
    badge = accent(brand)
    for i, (lines, h) in enumerate(zip(kept, heights)):
        text_h = block_height(len(lines), face, size)
        text_area = Box(x + indent, y + (h - text_h) / 2, area.right - x - indent, text_h)
        placed = place(lines, face, size, text_area, weight="regular", color=INK, align="left")
        blocks.append(Block(f"step{i + 1}", placed, text_area))
        first = placed[0] if placed else None
        cy = (first.baseline - 0.35 * size) if first else y + h / 2
        cy = min(max(cy, y + diameter / 2), y + h - diameter / 2)
        circles.append(Circle(x + diameter / 2, cy, diameter / 2, badge))
        blocks.append(_badge_number(i + 1, fonts.bold, size, x, cy, diameter, on_color(badge)))
        y += h + 0.7 * size
    return blocks, circles


def _badge_number(
    n: int, bold: Face, size: float, x: float, cy: float, diameter: float, color: str
) -> Block:
    """The step number, centred on its disc by its ink."""
    number = str(n)
    nsize = 0.95 * size
    left, right = extent(number, bold, nsize)
    _x0, y0, _x1, y1 = bold.ink(number)
    nx = x + (diameter - (right - left)) / 2 - left
    baseline = cy - (y0 + y1) / 2 * nsize
    line = Line(
        number, nx, baseline, nsize, "bold", color, ink_box(number, bold, nsize, nx, baseline)
    )
    return Block(f"step{n}.number", (line,), Box(x, cy - diameter / 2, diameter, diameter))
