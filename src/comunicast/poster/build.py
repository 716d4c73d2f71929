"""Make a code or a poster, verify it decodes to the URL, then move it into place atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from comunicast.errors import ConfigError, UsageError
from comunicast.i18n import _
from comunicast.poster.layout import PAPERS
from comunicast.poster.qr import Symbol, check_contrast, make_symbol
from comunicast.poster.texts import PosterTexts

if TYPE_CHECKING:
    from PIL.Image import Image

    from comunicast.poster.fonts import Fonts

CODE_FORMATS = (".png", ".svg", ".pdf")
POSTER_FORMATS = (".png", ".pdf")
#: People scan a code from about ten times its width.
SCAN_FACTOR = 10


@dataclass(frozen=True)
class Result:
    """What was made and how far it scans from."""

    url: str
    kind: str  # "poster" | "code" | "terminal"
    format: str  # "png" | "pdf" | "svg" | "text"
    path: Path | None = None
    paper: str | None = None
    modules: int = 0  # modules per side of the symbol, quiet zone excluded
    version: int = 0
    error_correction: str = "M"
    code_cm: float | None = None  # printed width of the symbol
    code_px: int | None = None  # width in pixels, for screen formats
    scan_distance_cm: float | None = None
    bytes: int | None = None
    lines: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The fields of `comunicast qr --format json`."""
        return {
            "path": str(self.path) if self.path else None,
            "kind": self.kind,
            "format": self.format,
            "paper": self.paper,
            "url": self.url,
            "modules": self.modules,
            "version": self.version,
            "error_correction": self.error_correction,
            "code_cm": self.code_cm,
            "code_px": self.code_px,
            "scan_distance_cm": self.scan_distance_cm,
            "bytes": self.bytes,
            "verified": True,
        }


def check_url(url: str) -> str:
    """The invite link, trimmed; it must be an https:// link."""
    url = url.strip()
    if not url.lower().startswith("https://") or len(url) <= len("https://"):
        raise UsageError(
            _("the code must encode an https:// link, not {url!r}").format(url=url),
            hint=_("use the channel's invite link, e.g. https://whatsapp.com/channel/…"),
        )
    return url


def is_example_url(url: str) -> bool:
    """True for the placeholder invite link of `comunicast init` (…/channel/0029VaXXXX…)."""
    return "XXXXXXXXXX" in url


def output_format(out: Path, *, poster: bool) -> str:
    """The output format from the file's extension."""
    suffix = out.suffix.lower()
    allowed = POSTER_FORMATS if poster else CODE_FORMATS
    if suffix not in allowed:
        if poster and suffix in CODE_FORMATS:
            raise UsageError(
                _("a poster is written as {formats}; for an SVG code add --code-only").format(
                    formats=" or ".join(allowed)
                )
            )
        raise UsageError(
            _("cannot write {name!r}: supported extensions are {formats}").format(
                name=out.name, formats=", ".join(allowed)
            )
        )
    return suffix[1:]


def load_logo(path: Path) -> Image:
    """A PNG or JPEG logo (checked by content); anything else is a ConfigError."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise ConfigError(_("logo {path} does not exist").format(path=path))
    try:
        with Image.open(path) as image:
            kind = image.format
            image.load()
            loaded = image.copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise ConfigError(
            _("cannot read logo {path}: {reason}").format(path=path, reason=exc)
        ) from None
    if kind not in {"PNG", "JPEG"}:
        raise ConfigError(
            _("logo {path} is {kind}; use a PNG or JPEG file").format(path=path, kind=kind)
        )
    return loaded


# -- writing --------------------------------------------------------------------------------


def _write_verified(
    out: Path, write: Callable[[Path], None], verify: Callable[[Path], None]
) -> int:
    """Write to a temporary file beside `out`, verify it, then rename it into place."""
    folder = out.parent
    if folder.exists() and not folder.is_dir():
        raise ConfigError(_("{folder} is a file, not a folder").format(folder=folder))
    if not folder.is_dir():
        raise ConfigError(_("folder {folder} does not exist").format(folder=folder))
    if out.is_dir():
        raise ConfigError(
            _("{out} is a folder: give a file name such as {out}/poster.png").format(out=out)
        )
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=folder)
    except OSError as exc:
        raise ConfigError(
            _("cannot write in folder {folder}: {reason}").format(
                folder=folder, reason=exc.strerror or exc
            ),
            hint=_("choose a folder you can write to"),
        ) from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        verify(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(
            _("cannot write {out}: {reason}").format(out=out, reason=exc.strerror or exc)
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out.stat().st_size


def _verify_png(expected: str, what: str, module_px: int = 4) -> Callable[[Path], None]:
    def verify(path: Path) -> None:
        from PIL import Image

        from comunicast.poster.qr import verify_image

        with Image.open(path) as image:
            gray = image.convert("L")
        # The whole page is decoded; reduced (box filter) to about 4 px per module for speed.
        factor = max(1, module_px // 4)
        verify_image(gray.reduce(factor) if factor > 1 else gray, expected, what=what)

    return verify


def _verify_pdf(expected: str, what: str, module_pt: float) -> Callable[[Path], None]:
    def verify(path: Path) -> None:
        from comunicast.poster.qr import rasterize_pdf, verify_image

        # Enough pixels per module for a clean read, no more (speed).
        verify_image(rasterize_pdf(path, scale=max(1.0, 6.0 / module_pt)), expected, what=what)

    return verify


def _verify_svg(expected: str, what: str) -> Callable[[Path], None]:
    def verify(path: Path) -> None:
        from comunicast.poster.qr import verify_image
        from comunicast.poster.svg import rasterize

        verify_image(rasterize(path.read_text(encoding="utf-8")), expected, what=what)

    return verify


def _symbol(url: str, color: str, logo_in_code: bool) -> Symbol:
    check_contrast(color)
    return make_symbol(url, logo=logo_in_code)


def build_code(url: str, out: Path, *, color: str, logo: Image | None = None) -> Result:
    """A bare code (`--code-only`) as PNG, SVG or PDF; with `logo`, the logo sits inside it."""
    from comunicast.poster import pdf, png, svg

    url = check_url(url)
    fmt = output_format(out, poster=False)
    symbol = _symbol(url, color, logo is not None)
    what = _("the code in {name}").format(name=out.name)
    if fmt == "png":
        module_cm = png.CODE_MODULE_PX / png.CODE_DPI * 2.54

        def write(path: Path) -> None:
            png.save(png.render_code(symbol, color, logo), path, png.CODE_DPI)

        size = _write_verified(out, write, _verify_png(url, what, png.CODE_MODULE_PX))
    elif fmt == "svg":
        module_cm = svg.MODULE_MM / 10

        def write(path: Path) -> None:
            path.write_text(svg.to_svg(symbol, color, logo), encoding="utf-8")

        size = _write_verified(out, write, _verify_svg(url, what))
    else:
        module_cm = pdf.CODE_MODULE_PT / 72 * 2.54

        def write(path: Path) -> None:
            pdf.write_code(path, symbol, color, logo)

        size = _write_verified(out, write, _verify_pdf(url, what, pdf.CODE_MODULE_PT))
    width = symbol.symbol_modules * module_cm
    return Result(
        url=url,
        kind="code",
        format=fmt,
        path=out,
        modules=symbol.symbol_modules,
        version=symbol.version,
        error_correction=symbol.error_correction,
        code_cm=round(width, 1),
        scan_distance_cm=round(width * SCAN_FACTOR),
        bytes=size,
    )


def build_poster(
    out: Path,
    texts: PosterTexts,
    fonts: Fonts,
    *,
    paper: str,
    brand: str,
    color: str,
    logo: Image | None = None,
    logo_in_code: bool = False,
    author: str = "",
) -> Result:
    """A poster as PNG or PDF, its code verified by decoding the written file."""
    from comunicast.poster import layout as layouts
    from comunicast.poster import pdf, png

    url = check_url(texts.url)
    fmt = output_format(out, poster=True)
    if paper not in PAPERS:
        raise UsageError(
            _("unknown paper {paper!r}; choose one of {papers}").format(
                paper=paper, papers=", ".join(PAPERS)
            )
        )
    if logo_in_code and logo is None:
        raise ConfigError(_("--logo-in-code needs organization.logo in comunicast.yaml"))
    symbol = _symbol(url, color, logo_in_code)
    sheet = PAPERS[paper]
    aspect = logo.width / logo.height if logo is not None else None
    placed = layouts.layout_poster(
        sheet, texts, fonts, modules=symbol.size, brand=brand, logo_aspect=aspect
    )
    what = _("the code on the poster {name}").format(name=out.name)
    if fmt == "png":

        def write(path: Path) -> None:
            image = png.render_poster(
                placed, symbol, fonts, color=color, logo=logo, logo_in_code=logo_in_code
            )
            png.save(image, path, sheet.dpi)

        module_px = round(placed.module * sheet.dpi / 72)
        size = _write_verified(out, write, _verify_png(url, what, module_px))
    else:

        def write(path: Path) -> None:
            pdf.write_poster(
                path,
                placed,
                symbol,
                fonts,
                color=color,
                logo=logo,
                logo_in_code=logo_in_code,
                title=texts.title,
                author=author or texts.organization,
            )

        size = _write_verified(out, write, _verify_pdf(url, what, placed.module))
    width_pt = symbol.symbol_modules * placed.module
    code_cm = code_px = distance = None
    if sheet.screen:
        code_px = round(width_pt / 72 * sheet.dpi)
    else:
        code_cm = round(width_pt / 72 * 2.54, 1)
        distance = round(width_pt / 72 * 2.54 * SCAN_FACTOR)
    return Result(
        url=url,
        kind="poster",
        format=fmt,
        path=out,
        paper=paper,
        modules=symbol.symbol_modules,
        version=symbol.version,
        error_correction=symbol.error_correction,
        code_cm=code_cm,
        code_px=code_px,
        scan_distance_cm=distance,
        bytes=size,
    )


def terminal_code(url: str, color: str = "#000000") -> Result:
    """The code as half-block text lines, verified by decoding the lines themselves."""
    from comunicast.poster import terminal
    from comunicast.poster.qr import verify_image

    url = check_url(url)
    symbol = _symbol(url, color, False)
    lines = terminal.to_lines(symbol)
    verify_image(terminal.matrix_image(terminal.from_lines(lines)), url, what=_("the code"))
    return Result(
        url=url,
        kind="terminal",
        format="text",
        modules=symbol.symbol_modules,
        version=symbol.version,
        error_correction=symbol.error_correction,
        lines=lines,
    )
