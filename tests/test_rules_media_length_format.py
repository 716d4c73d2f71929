"""length.*, format.* and media.* on real drafts and real image files."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from rules_support import findings, md, places


def _jpeg(path: Path, *, gps: bool = False, size: tuple[int, int] = (40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, (0, 51, 102))
    exif = image.getexif()
    exif[0x010F] = "Fotocamera"  # Make: EXIF without a location
    if gps:
        tags = exif.get_ifd(0x8825)
        tags[1], tags[2], tags[3], tags[4] = "N", (45.0, 8.0, 0.0), "E", (10.0, 1.0, 0.0)
    image.save(path, "JPEG", exif=exif)
    return path


SENTENCE = "Il servizio resta aperto anche il sabato mattina. "  # 50 characters


# -- length ------------------------------------------------------------------------------------


def test_length_text_over_max_chars_is_an_error(tmp_path: Path) -> None:
    found = findings(tmp_path, md(SENTENCE * 24 + "\n"), "length.text")
    assert places(found) == [(5, 1)]
    assert found[0].severity.label == "error" and "1,000" in found[0].message


def test_length_text_over_warn_chars_is_a_warning(tmp_path: Path) -> None:
    found = findings(tmp_path, md(SENTENCE * 14 + "\n"), "length.text")
    assert [f.severity.label for f in found] == ["warning"]
    assert "600" in found[0].message


def test_length_text_near_miss(tmp_path: Path) -> None:
    # 550 characters of body plus the bold title line: under 600.
    assert findings(tmp_path, md(SENTENCE * 11 + "\n"), "length.text") == []


NO_OFFICE_LIMITS = "rules:\n  length.text: {max_chars: 100000, warn_chars: 100000}\n"


def test_length_text_caption_limit_with_an_image(tmp_path: Path) -> None:
    _jpeg(tmp_path / "messages" / "foto.jpg")
    body = SENTENCE * 22 + "\n"  # 1100 characters: fine as a text, too long as a caption
    assert findings(tmp_path / "a", md(body), "length.text", extra=NO_OFFICE_LIMITS) == []
    found = findings(tmp_path, md(body, image="foto.jpg", image_alt="Il ponte"), "length.text",
                     extra=NO_OFFICE_LIMITS)
    assert len(found) == 1
    assert "1,024" in found[0].message and "caption" in found[0].message


def test_length_text_each_target_of_the_senders(tmp_path: Path) -> None:
    from conftest import MINIMAL_CONFIG
    from rules_support import make_config, make_draft

    from comunicast.rules import check_draft

    base = MINIMAL_CONFIG.replace("senders:\n  console:\n    adapter: console\n", "")
    extra = NO_OFFICE_LIMITS + (
        "senders:\n  console: {adapter: console}\n"
        '  tg: {adapter: telegram, chat_id: "@prova", token: "${TG_TOKEN_NOT_NEEDED}"}\n'
    )
    config = make_config(tmp_path, extra, base=base)
    draft = make_draft(tmp_path, md(SENTENCE * 83 + "\n", senders="[console, tg]"), config)
    found = [f for f in check_draft(draft, config) if f.rule == "length.text"]
    assert sorted(f.message.split(" on ")[1].split(",")[0] for f in found) == ["telegram",
                                                                                "whatsapp"]


def test_length_title(tmp_path: Path) -> None:
    title = "Chiusura straordinaria degli uffici comunali per la festa patronale di Sant'Omobono"
    found = findings(tmp_path, md("Testo.\n", title=title), "length.title")
    assert places(found) == [(2, 8)]
    near = "Uffici chiusi il 13 novembre per la festa di Sant'Omobono"  # under 65
    assert findings(tmp_path / "b", md("Testo.\n", title=near), "length.title") == []


# -- format ------------------------------------------------------------------------------------


def test_format_unsupported(tmp_path: Path) -> None:
    text = md("""\
        # Titolo

        Testo con <b>HTML</b> e ![foto](https://www.comune.cremona.it/a.jpg).

        | a | b |
        |---|---|
        | 1 | 2 |
        """)
    found = findings(tmp_path, text, "format.unsupported")
    assert places(found) == [(5, 1), (7, 11), (7, 18), (7, 25), (9, 1)]
    assert all(f.severity.label == "error" for f in found)


def test_format_unsupported_near_miss(tmp_path: Path) -> None:
    text = md("**Titolo in grassetto**\n\n- uno\n- due\n\n> citazione e `codice`\n")
    assert findings(tmp_path, text, "format.unsupported") == []


def test_format_emphasis(tmp_path: Path) -> None:
    found = findings(tmp_path, md("Domani *chiuso* e **aperto** e _corsivo_.\n"), "format.emphasis")
    assert places(found) == [(5, 8)]
    assert found[0].suggestion == "**chiuso**"


# -- media -------------------------------------------------------------------------------------


def test_media_missing(tmp_path: Path) -> None:
    text = md("Testo.\n", image="manca.jpg", image_alt="Foto")
    found = findings(tmp_path, text, "media.missing")
    assert places(found) == [(4, 8)]
    assert findings(tmp_path, text, "media.format") == []


def test_media_format_by_content_not_extension(tmp_path: Path) -> None:
    fake = tmp_path / "messages" / "foto.jpg"
    fake.parent.mkdir(parents=True)
    Image.new("RGB", (20, 20), "red").save(fake, "GIF")  # a GIF named .jpg
    (tmp_path / "messages" / "testo.png").write_text("non sono un'immagine", encoding="utf-8")
    found = findings(tmp_path, md("Testo.\n", image="foto.jpg", image_alt="Foto"), "media.format")
    assert places(found) == [(4, 8)] and "GIF" in found[0].message
    found = findings(tmp_path, md("Testo.\n", image="testo.png", image_alt="x"), "media.format")
    assert len(found) == 1
    # Near miss: a real PNG named .jpg is fine (content decides).
    Image.new("RGB", (20, 20), "red").save(fake, "PNG")
    assert findings(tmp_path, md("Testo.\n", image="foto.jpg", image_alt="x"), "media.format") == []


def test_media_size(tmp_path: Path) -> None:
    photo = _jpeg(tmp_path / "messages" / "foto.jpg", size=(400, 300))
    text = md("Testo.\n", image="foto.jpg", image_alt="Foto")
    size = photo.stat().st_size
    found = findings(tmp_path, text, "media.size", extra=f"rules:\n  media.size: {{max_bytes: {size - 1}}}\n")
    assert places(found) == [(4, 8)]
    assert findings(tmp_path, text, "media.size", extra=f"rules:\n  media.size: {{max_bytes: {size}}}\n") == []


def test_media_size_default_is_5_mb(tmp_path: Path) -> None:
    big = tmp_path / "messages" / "grande.png"
    big.parent.mkdir(parents=True)
    Image.frombytes("RGB", (1400, 1400), bytes(range(256)) * (1400 * 1400 * 3 // 256) + b"\0" * (1400 * 1400 * 3 % 256)).save(big, "PNG", compress_level=0)
    assert big.stat().st_size > 5 * 1024 * 1024
    found = findings(tmp_path, md("Testo.\n", image="grande.png", image_alt="x"), "media.size")
    assert len(found) == 1 and "5.0 MB" in found[0].message


def test_media_location(tmp_path: Path) -> None:
    _jpeg(tmp_path / "messages" / "gps.jpg", gps=True)
    _jpeg(tmp_path / "messages" / "senza.jpg")
    found = findings(tmp_path, md("Testo.\n", image="gps.jpg", image_alt="x"), "media.location")
    assert places(found) == [(4, 8)]
    assert findings(tmp_path, md("Testo.\n", image="senza.jpg", image_alt="x"), "media.location") == []


def test_media_alt(tmp_path: Path) -> None:
    _jpeg(tmp_path / "messages" / "foto.jpg")
    found = findings(tmp_path, md("Testo.\n", image="foto.jpg"), "media.alt")
    assert places(found) == [(4, 8)]
    assert findings(tmp_path, md("Testo.\n", image="foto.jpg", image_alt="Il ponte"), "media.alt") == []
