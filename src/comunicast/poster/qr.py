"""The QR symbol: matrix, logo pad, colour contrast and decoding checks (SPEC §6)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from comunicast.errors import ComunicastError, ConfigError
from comunicast.i18n import _, format_number

if TYPE_CHECKING:
    from PIL.Image import Image

QUIET_ZONE = 4
#: Share of the symbol's area a logo (with its light pad) may cover when placed in the code.
MAX_LOGO_AREA = 0.15
MIN_CONTRAST = 7.0
WHITE = "#FFFFFF"


class VerificationError(ComunicastError):
    """A written code did not decode back to the URL; nothing was written."""

    exit_code = 1


@dataclass(frozen=True)
class Symbol:
    """A QR code: `dark[y][x]` over the symbol and its quiet zone, plus the logo pad if any."""

    text: str
    dark: tuple[tuple[bool, ...], ...]
    version: int
    error_correction: str  # "M" or "H"
    quiet: int = QUIET_ZONE
    pad: tuple[int, int, int] | None = None  # (x, y, side) in modules, including the quiet zone

    @property
    def size(self) -> int:
        """Modules per side, quiet zone included."""
        return len(self.dark)

    @property
    def symbol_modules(self) -> int:
        """Modules per side of the symbol alone."""
        return self.size - 2 * self.quiet

    def runs(self) -> list[tuple[int, int, int]]:
        """Horizontal runs of dark modules as (x, y, length): few shapes for vector output."""
        out: list[tuple[int, int, int]] = []
        for y, row in enumerate(self.dark):
            x = 0
            while x < len(row):
                if row[x]:
                    start = x
                    while x < len(row) and row[x]:
                        x += 1
                    out.append((start, y, x - start))
                else:
                    x += 1
        return out


def make_symbol(text: str, *, logo: bool = False) -> Symbol:
    """Encode `text`: error correction M, or H with a centred light pad for a logo."""
    import qrcode  # type: ignore[import-untyped]
    import qrcode.constants  # type: ignore[import-untyped]

    level = qrcode.constants.ERROR_CORRECT_H if logo else qrcode.constants.ERROR_CORRECT_M
    code = qrcode.QRCode(error_correction=level, border=QUIET_ZONE, box_size=1)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    matrix = [list(map(bool, row)) for row in code.get_matrix()]
    pad = None
    if logo:
        n = len(matrix) - 2 * QUIET_ZONE
        side = math.floor(math.sqrt(MAX_LOGO_AREA) * n)
        if (n - side) % 2:  # centred on whole modules
            side -= 1
        start = QUIET_ZONE + (n - side) // 2
        for y in range(start, start + side):
            for x in range(start, start + side):
                matrix[y][x] = False
        pad = (start, start, side)
    return Symbol(
        text=text,
        dark=tuple(tuple(row) for row in matrix),
        version=int(code.version or 0),
        error_correction="H" if logo else "M",
        pad=pad,
    )


# -- colour ---------------------------------------------------------------------------------


def parse_color(value: str) -> tuple[int, int, int]:
    """`#RGB` or `#RRGGBB` as an (r, g, b) tuple."""
    digits = value.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def luminance(color: str) -> float:
    """WCAG 2 relative luminance of a colour."""

    def channel(c: int) -> float:
        s = c / 255.0
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = parse_color(color)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = luminance(a), luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def check_contrast(dark: str, light: str = WHITE) -> float:
    """Refuse a code whose modules are not dark on light with contrast ≥ 7:1; return the ratio."""
    ratio = contrast(dark, light)
    if luminance(dark) >= luminance(light):
        raise ConfigError(
            _(
                "the code's modules ({dark}) are lighter than its background ({light}): "
                "inverted codes do not scan on many phones"
            ).format(dark=dark, light=light),
            hint=_('set poster.qr_color to a dark colour, e.g. "#000000"'),
        )
    if ratio < MIN_CONTRAST:
        raise ConfigError(
            _(
                "contrast between the code's modules ({dark}) and background ({light}) is "
                "{ratio}:1; a code must have at least {minimum}:1 to scan reliably"
            ).format(
                dark=dark,
                light=light,
                ratio=format_number(ratio, 1),
                minimum=format_number(MIN_CONTRAST),
            ),
            hint=_('set poster.qr_color to a darker colour, e.g. "#000000"'),
        )
    return ratio


# -- verification ---------------------------------------------------------------------------


def decode(image: Image) -> list[str]:
    """Texts of the QR codes an independent decoder (zxing-cpp) reads in `image`, dark on light."""
    import zxingcpp

    gray = image.convert("L")
    found = zxingcpp.read_barcodes(
        gray,
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
        try_rotate=False,
        try_invert=False,
    )
    return [b.text for b in found]


def verify_image(image: Image, expected: str, *, what: str) -> None:
    """Raise VerificationError unless `image` holds exactly one QR code reading `expected`."""
    texts = decode(image)
    if texts != [expected]:
        got = ", ".join(repr(t) for t in texts) if texts else _("no readable code")
        raise VerificationError(
            _("{what} does not scan back to the URL (decoded: {got}); nothing was written").format(
                what=what, got=got
            ),
            hint=_("try without --logo-in-code, or a darker poster.qr_color"),
        )


def rasterize_pdf(path: Any, *, scale: float) -> Image:
    """Render the first page of a PDF with pdfium (`scale` pixels per point)."""
    import pypdfium2  # type: ignore[import-untyped]

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        page = pdf[0]
        bitmap = page.render(scale=scale, grayscale=True)
        image: Image = bitmap.to_pil()
        image.load()
        return image.copy()
    finally:
        pdf.close()
