"""Poster layout: every text box inside the page margins on every paper, whatever the texts."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from comunicast.i18n import _, language
from comunicast.poster import texts as _texts

with language("it"):  # the Italian defaults, as the office prints them
    DEFAULT_STEPS = (_(_texts.DEFAULT_STEPS[0]), _(_texts.DEFAULT_STEPS[1]), _(_texts.DEFAULT_STEPS[2]))
    DEFAULT_PRIVACY = _(_texts.DEFAULT_PRIVACY)
from comunicast.poster.fonts import BELL, ICONS, poster_fonts
from comunicast.poster.layout import PAPERS, Box, Layout, PosterTexts, layout_poster

URL = "https://whatsapp.com/channel/0029VaTestTestTestTest00"
LONG_ORG = "Unione dei Comuni Lombarda «Terre dell’Oglio» — ÀÈÉÌÒÙ € 260"
LONG_TITLE = (
    "È ARRIVATO IL NUOVO CANALE «Città di Cremona» (€ 10): ÀÈÌÒÙ, seguici su WhatsApp "
    "per avvisi, scadenze, eventi e altro!!!"
)
EXTREME_STEPS = (
    "Inquadra il QR code con la fotocamera del tuo telefono 📱 e apri il link che compare",
    "Tocca «Iscriviti» 👍🏽 in alto a destra, nella pagina del canale del Comune",
    "Attiva le notifiche 🔔 per non perdere nessun avviso urgente ⚠️ del Comune",
)
NORMAL = PosterTexts(
    "Comune di Cremona",
    "Segui il Comune di Cremona su WhatsApp",
    DEFAULT_STEPS,
    URL,
    DEFAULT_PRIVACY,
)
EXTREME = PosterTexts(
    LONG_ORG, LONG_TITLE, EXTREME_STEPS, URL, DEFAULT_PRIVACY + " " + DEFAULT_PRIVACY
)


def test_extreme_texts_have_the_lengths_the_issue_asks_for() -> None:
    assert len(LONG_ORG) == 60
    assert len(LONG_TITLE) == 120


@pytest.fixture(scope="module")
def fonts():  # type: ignore[no-untyped-def]
    return poster_fonts()


def _layouts(fonts):  # type: ignore[no-untyped-def]
    for paper, texts, logo, modules in itertools.product(
        PAPERS.values(), (NORMAL, EXTREME), (None, 0.8, 4.0), (29, 45, 57)
    ):
        yield layout_poster(paper, texts, fonts, modules=modules, brand="#003366", logo_aspect=logo)


def _assert_inside(layout: Layout) -> None:
    page, content, band = layout.page, layout.content, layout.band
    where = f"{layout.paper.name}"
    assert page.contains(band)
    band_inner = Box(content.x, band.y, content.w, band.h)
    for block in layout.blocks:
        assert block.lines, f"{where}: {block.role} is empty"
        for line in block.lines:
            assert line.ink.w > 0 and line.ink.h > 0, f"{where}: {block.role} draws nothing"
            if block.role == "organization":
                assert band_inner.contains(line.ink), (
                    f"{where}: organization {line.ink} leaves the band"
                )
            else:
                assert content.contains(line.ink), (
                    f"{where}: {block.role} {line.ink} leaves the margins"
                )
    if layout.logo is not None:
        assert band_inner.contains(layout.logo)
        for line in layout.block("organization").lines:
            assert not line.ink.overlaps(layout.logo)
    for circle in layout.circles:
        assert content.contains(circle.box)
    assert content.contains(layout.code), f"{where}: code {layout.code} leaves the margins"
    # Nothing else inside the code or its quiet zone, and no two text blocks collide.
    boxes = [(b.role, b.ink) for b in layout.blocks if b.role != "organization"]
    for role, ink in boxes:
        assert not ink.overlaps(layout.code), f"{where}: {role} overlaps the code"
        assert not ink.overlaps(layout.band), f"{where}: {role} overlaps the band"
    for (ra, a), (rb, b) in itertools.combinations(boxes, 2):
        if ra.split(".")[0] == rb.split(".")[0]:
            continue  # a step's number sits beside its text by design, checked below
        assert not a.overlaps(b), f"{where}: {ra} overlaps {rb}"
    for i in (1, 2, 3):
        number = layout.block(f"step{i}.number").ink
        assert not number.overlaps(layout.block(f"step{i}").ink)
        circle = layout.circles[i - 1].box
        assert circle.contains(number), f"{where}: number {i} leaves its disc"


def test_every_text_box_lies_inside_the_margins_on_every_paper(fonts) -> None:  # type: ignore[no-untyped-def]
    count = 0
    for layout in _layouts(fonts):
        _assert_inside(layout)
        count += 1
    assert count == len(PAPERS) * 2 * 3 * 3


def test_long_organization_and_title_wrap_and_shrink_without_losing_text(fonts) -> None:  # type: ignore[no-untyped-def]
    for paper in PAPERS.values():
        normal = layout_poster(paper, NORMAL, fonts, modules=41, brand="#003366")
        extreme = layout_poster(paper, EXTREME, fonts, modules=41, brand="#003366", logo_aspect=1.0)
        title = extreme.block("title")
        assert " ".join(line.text for line in title.lines) == LONG_TITLE
        assert len(title.lines) > 1
        assert title.lines[0].size < normal.block("title").lines[0].size
        org = extreme.block("organization")
        assert " ".join(line.text for line in org.lines) == LONG_ORG


def test_the_code_gets_a_whole_number_of_pixels_per_module_and_most_of_the_room(fonts) -> None:  # type: ignore[no-untyped-def]
    for layout in _layouts(fonts):
        paper = layout.paper
        px = layout.module * paper.dpi / 72
        assert abs(px - round(px)) < 1e-6 and round(px) >= 3
        # As large as the layout allows: at least 40 % of the page width, even with extreme texts.
        assert layout.code.w >= 0.40 * paper.width, (paper.name, layout.code.w / paper.width)


def test_no_rendered_character_lacks_a_glyph(fonts) -> None:  # type: ignore[no-untyped-def]
    drawn_icons = 0
    for layout in _layouts(fonts):
        for line in layout.lines():
            face = fonts.face(line.weight)
            for char in line.text:
                if char in ICONS and not face.has(char):
                    drawn_icons += 1  # drawn as a vector shape by the renderers
                    continue
                assert face.has(char), f"{char!r} (U+{ord(char):04X}) has no glyph in {face.name}"
    assert drawn_icons > 0  # the bell of step 3 survives as an icon


def test_emoji_without_a_glyph_are_dropped_but_the_bell_is_kept(fonts) -> None:  # type: ignore[no-untyped-def]
    layout = layout_poster(PAPERS["a4"], EXTREME, fonts, modules=41, brand="#003366")
    steps = [" ".join(line.text for line in layout.block(f"step{i}").lines) for i in (1, 2, 3)]
    assert "📱" not in steps[0] and "telefono e apri" in steps[0]
    assert "👍" not in steps[1] and "\U0001f3fd" not in steps[1]
    assert BELL in steps[2] and "⚠" not in steps[2] and "\ufe0f" not in steps[2]
    assert "«Iscriviti»" in steps[1]


def test_absurdly_long_texts_are_cut_with_an_ellipsis_but_never_overflow(fonts) -> None:  # type: ignore[no-untyped-def]
    huge = PosterTexts(
        "Comune " * 40,
        "Titolo lunghissimo " * 30,
        ("passo " * 80,) * 3,
        URL + "/" + "x" * 300,
        "privacy " * 200,
    )
    for paper in PAPERS.values():
        layout = layout_poster(paper, huge, fonts, modules=57, brand="#003366", logo_aspect=1.0)
        _assert_inside(layout)
        assert layout.block("title").lines[-1].text.endswith("…")


@pytest.mark.parametrize("paper", ["a5", "square"])
def test_rendered_ink_stays_inside_the_computed_boxes(fonts, paper: str) -> None:  # type: ignore[no-untyped-def]
    """Draw each line alone with the PNG renderer and measure its real ink."""
    from PIL import Image, ImageDraw

    from comunicast.poster.png import draw_line

    layout = layout_poster(
        PAPERS[paper], EXTREME, fonts, modules=41, brand="#003366", logo_aspect=1.0
    )
    scale = 150 / 72 if paper == "a5" else 1.0
    size = (round(layout.paper.width * scale), round(layout.paper.height * scale))
    for line in layout.lines():
        image = Image.new("L", size, 255)
        draw_line(ImageDraw.Draw(image), replace(line, color="#000000"), fonts, scale)
        ink = Image.eval(image, lambda v: 255 - v).getbbox()
        assert ink is not None, line.text
        x0, y0, x1, y1 = ink
        box = line.ink
        # Pixel snapping: the glyph bitmap lands on whole pixels and hinting rounds its top up.
        tolerance = 2.5
        assert x0 >= box.x * scale - tolerance, (line.text, x0, box)
        assert y0 >= box.y * scale - tolerance, (line.text, y0, box)
        assert x1 <= box.right * scale + tolerance, (line.text, x1, box)
        assert y1 <= box.bottom * scale + tolerance, (line.text, y1, box)
