"""The bundled fonts: shipped inside the package with their licence, and able to write Italian."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from comunicast.errors import ConfigError
from comunicast.poster.fonts import (
    BELL,
    BOLD,
    LICENSE,
    REGULAR,
    SEMIBOLD,
    bundled,
    drawable,
    load_face,
    poster_fonts,
)

ITALIAN = "àèéìòùÀÈÉÌÒÙ«»€’“”–—…"


def test_fonts_and_licence_are_package_resources() -> None:
    folder = resources.files("comunicast.poster").joinpath("fonts")
    for name in (REGULAR, BOLD, SEMIBOLD, LICENSE):
        assert folder.joinpath(name).is_file(), name
    licence = folder.joinpath(LICENSE).read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Accademia di Belle Arti di Urbino" in licence


@pytest.mark.parametrize("name", [REGULAR, BOLD, SEMIBOLD])
def test_bundled_fonts_cover_italian_text(name: str) -> None:
    face = load_face(bundled(name))
    missing = [c for c in ITALIAN if not face.has(c)]
    assert missing == []
    assert not face.has(BELL)  # hence the vector bell


def test_drawable_keeps_what_the_font_has_and_drops_the_rest() -> None:
    face = poster_fonts().regular
    assert drawable("Città «più» € 10", face) == "Città «più» € 10"
    assert drawable("Notifiche 🔔\ufe0f attive 👍🏽!", face) == "Notifiche 🔔 attive !"
    assert drawable("  a\u00a0b\tc\n d ", face) == "a b c d"
    # A letter whose accent the font lacks keeps its base letter (ǹ → n).
    assert drawable("\u01f9", face) in ("\u01f9", "n")


def test_unreadable_font_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font")
    with pytest.raises(ConfigError, match="bad.ttf"):
        poster_fonts(bad)
    with pytest.raises(ConfigError, match="missing.ttf"):
        poster_fonts(tmp_path / "missing.ttf")
