"""Posters and codes as files: each one decoded back by an independent reader and compared to the URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from comunicast.i18n import _, language
from comunicast.poster import texts as _texts
from comunicast.poster.build import build_code, build_poster

with language("it"):  # the Italian defaults, as the office prints them
    DEFAULT_STEPS = (_(_texts.DEFAULT_STEPS[0]), _(_texts.DEFAULT_STEPS[1]), _(_texts.DEFAULT_STEPS[2]))
    DEFAULT_PRIVACY = _(_texts.DEFAULT_PRIVACY)
from comunicast.poster.fonts import poster_fonts
from comunicast.poster.layout import PAPERS, PosterTexts, layout_poster
from comunicast.poster.qr import decode, make_symbol, rasterize_pdf
from comunicast.poster.svg import rasterize

URL = "https://whatsapp.com/channel/0029VaTestTestTestTest00"
TEXTS = PosterTexts(
    "Comune di Cremona",
    "Segui il Comune di Cremona su WhatsApp",
    DEFAULT_STEPS,
    URL,
    DEFAULT_PRIVACY,
)
EXTREME = PosterTexts(
    "Unione dei Comuni Lombarda «Terre dell’Oglio» — ÀÈÉÌÒÙ € 260",
    "È ARRIVATO IL NUOVO CANALE «Città di Cremona» (€ 10): ÀÈÌÒÙ, seguici su WhatsApp "
    "per avvisi, scadenze, eventi e altro!!!",
    ("Inquadra il QR code 📱 con la fotocamera", "Tocca «Iscriviti» 👍", "Attiva le notifiche 🔔"),
    URL,
    DEFAULT_PRIVACY,
)


@pytest.fixture(scope="module")
def fonts():  # type: ignore[no-untyped-def]
    return poster_fonts()


@pytest.fixture(scope="module")
def logo(tmp_path_factory: pytest.TempPathFactory) -> Image.Image:
    """A crest-like PNG logo with transparency, taller than wide."""
    image = Image.new("RGBA", (400, 500), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon([(20, 20), (380, 20), (380, 300), (200, 480), (20, 300)], fill=(200, 30, 30, 255))
    draw.rectangle((170, 60, 230, 420), fill=(255, 255, 255, 255))
    draw.rectangle((60, 200, 340, 260), fill=(255, 255, 255, 255))
    return image


def _decoded(path: Path, module_hint: float = 4.0) -> list[str]:
    """Read the file from disk with a reader independent of the writer."""
    if path.suffix == ".pdf":
        return decode(rasterize_pdf(path, scale=2.0))
    if path.suffix == ".svg":
        return decode(rasterize(path.read_text(encoding="utf-8")))
    with Image.open(path) as image:
        return decode(image)


@pytest.mark.parametrize("paper", list(PAPERS))
@pytest.mark.parametrize("with_logo", [False, True], ids=["plain", "logo"])
def test_every_poster_decodes_to_the_url(
    tmp_path: Path, fonts, logo, paper: str, with_logo: bool
) -> None:  # type: ignore[no-untyped-def]
    for ext in ("png", "pdf"):
        out = tmp_path / f"poster-{paper}.{ext}"
        result = build_poster(
            out,
            TEXTS,
            fonts,
            paper=paper,
            brand="#003366",
            color="#000000",
            logo=logo if with_logo else None,
            logo_in_code=with_logo and paper == "a4",
        )
        assert result.path == out and out.is_file()
        assert _decoded(out) == [URL]
        assert result.error_correction == ("H" if with_logo and paper == "a4" else "M")
        if ext == "png":
            with Image.open(out) as image:
                sheet = PAPERS[paper]
                assert image.size == sheet.pixels
                assert round(image.info["dpi"][0]) == sheet.dpi
        assert list(tmp_path.glob(".*")) == []  # no temporary files left behind


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
@pytest.mark.parametrize("with_logo", [False, True], ids=["plain", "logo"])
def test_every_bare_code_decodes_to_the_url(
    tmp_path: Path, logo, ext: str, with_logo: bool
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"code.{ext}"
    result = build_code(URL, out, color="#003366", logo=logo if with_logo else None)
    assert _decoded(out) == [URL]
    assert result.error_correction == ("H" if with_logo else "M")
    assert result.scan_distance_cm is not None and result.code_cm is not None
    assert abs(result.scan_distance_cm - 10 * result.code_cm) <= 1


def test_a_bare_png_has_whole_pixels_per_module_and_a_four_module_quiet_zone(
    tmp_path: Path,
) -> None:
    out = tmp_path / "code.png"
    build_code(URL, out, color="#000000")
    symbol = make_symbol(URL)
    with Image.open(out) as image:
        gray = image.convert("L")
        assert round(image.info["dpi"][0]) == 300
        assert gray.width % symbol.size == 0
        module = gray.width // symbol.size
        dark = gray.point(lambda v: 255 if v < 128 else 0).getbbox()
    assert dark == (4 * module, 4 * module, gray.width - 4 * module, gray.height - 4 * module)


def test_svg_is_one_vector_path_sized_in_millimetres(tmp_path: Path) -> None:
    out = tmp_path / "code.svg"
    build_code(URL, out, color="#000000")
    text = out.read_text(encoding="utf-8")
    assert re.search(r'width="[\d.]+mm"', text)
    assert text.count("<path") == 1 and "<image" not in text


def test_pdf_poster_is_vector_with_embedded_selectable_font_and_small(
    tmp_path: Path, fonts, logo
) -> None:  # type: ignore[no-untyped-def]
    import pypdfium2

    out = tmp_path / "poster.pdf"
    build_poster(out, EXTREME, fonts, paper="a4", brand="#003366", color="#000000", logo=logo)
    data = out.read_bytes()
    assert len(data) <= 200 * 1024
    assert b"/FontFile2" in data  # TrueType program embedded
    assert re.findall(rb"/BaseFont /([A-Z]{6}\+)?(\S+)", data)
    assert b"/Helvetica" not in data
    pdf = pypdfium2.PdfDocument(str(out))
    try:
        text = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    flat = " ".join(text.split())
    assert "«Città di" in flat and "ÀÈÌÒÙ" in flat and "€ 10" in flat
    assert "Tocca «Iscriviti»" in flat
    assert URL in flat


def test_png_poster_leaves_its_margins_blank_with_extreme_texts(
    tmp_path: Path, fonts, logo
) -> None:  # type: ignore[no-untyped-def]
    """End to end: below the header band, nothing is drawn in the margins of the page."""
    for paper in PAPERS:
        out = tmp_path / f"{paper}.png"
        build_poster(out, EXTREME, fonts, paper=paper, brand="#003366", color="#000000", logo=logo)
        sheet = PAPERS[paper]
        layout = layout_poster(
            sheet, EXTREME, fonts, modules=make_symbol(URL).size, brand="#003366", logo_aspect=0.8
        )
        scale = sheet.dpi / 72
        m = int(layout.margin * scale) - 1
        band = int(layout.band.bottom * scale) + 1
        with Image.open(out) as image:
            gray = image.convert("L")
            w, h = gray.size
            for strip in ((0, band, m, h), (w - m, band, w, h), (0, h - m, w, h)):
                assert gray.crop(strip).getextrema() == (255, 255), (paper, strip)


def test_verification_failure_writes_nothing_and_keeps_the_old_file(tmp_path: Path) -> None:
    from comunicast.poster.build import _verify_png, _write_verified
    from comunicast.poster.png import render_code, save
    from comunicast.poster.qr import VerificationError

    out = tmp_path / "code.png"
    out.write_bytes(b"previous poster")

    def write_other_code(path: Path) -> None:  # a real code, for another link
        save(render_code(make_symbol("https://example.org/other"), "#000000"), path, 300)

    with pytest.raises(VerificationError) as info:
        _write_verified(out, write_other_code, _verify_png(URL, "the code"))
    assert "https://example.org/other" in info.value.message
    assert out.read_bytes() == b"previous poster"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["code.png"]


def test_logo_in_the_code_covers_at_most_15_percent_of_the_symbol() -> None:
    for url in (URL, URL + "?utm=" + "x" * 100, "https://a.it"):
        symbol = make_symbol(url, logo=True)
        assert symbol.error_correction == "H" and symbol.pad is not None
        x, y, side = symbol.pad
        assert side * side <= 0.15 * symbol.symbol_modules**2
        assert side >= 5
        # Centred on the symbol and cleared to light modules.
        assert x - symbol.quiet == symbol.size - symbol.quiet - (x + side)
        assert not any(symbol.dark[j][i] for j in range(y, y + side) for i in range(x, x + side))
