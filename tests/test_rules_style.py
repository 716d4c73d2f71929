"""style.*: our own Gulpease (hand-computed values), burocratese from the data file, shouting."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml
from rules_support import findings, md, places

from comunicast.rules.style import find_burocratese, gulpease, readability_counts

# (text, sentences, words, letters, index) computed by hand: letters are letters only, a word is
# a run of letters or digits (l'ufficio is two), URLs are removed, a dot before a digit (8.30)
# does not end a sentence, a line end does.
HAND = [
    ("Il ponte è chiuso. Usate il percorso alternativo!", 2, 8, 40, 89 + (600 - 400) / 8),
    ("Oggi piove.", 1, 2, 9, 89 + (300 - 90) / 2),
    ("Dal 2 dicembre l'ufficio apre alle 8.30: https://www.comune.cremona.it/orari",
     1, 9, 27, 89 + (300 - 270) / 9),
    ("Anagrafe chiusa\nTributi aperti", 2, 4, 27, 89 + (600 - 270) / 4),
    (("Ai sensi della normativa vigente in materia di tributi locali, si comunica che il "
      "versamento della seconda rata dovrà essere effettuato entro il termine perentorio "
      "indicato."), 1, 26, 146, 89 + (300 - 1460) / 26),
    ("Chi paga? Tutti!!! Anche tu…", 3, 5, 19, 89 + (900 - 190) / 5),
]


@pytest.mark.parametrize(("text", "sentences", "words", "letters", "index"), HAND)
def test_gulpease_hand_computed(text: str, sentences: int, words: int, letters: int,
                                index: float) -> None:
    assert readability_counts(text) == (sentences, words, letters)
    assert gulpease(text) == pytest.approx(index)


def test_gulpease_without_words() -> None:
    assert gulpease("https://www.comune.cremona.it/ … !!") is None


HARD = ("Ai sensi della normativa vigente in materia di tributi locali, si comunica che il "
        "versamento della seconda rata dovrà essere effettuato entro il termine perentorio "
        "indicato nella comunicazione trasmessa precedentemente all'indirizzo di residenza.")


def test_readability_fires_on_hard_text(tmp_path: Path) -> None:
    found = findings(tmp_path, md(HARD + "\n"), "style.readability")
    assert places(found) == [(5, 1)]
    assert "Gulpease" in found[0].message


def test_readability_near_miss_plain_text(tmp_path: Path) -> None:
    easy = ("Il ponte sul Po è chiuso. Resta chiuso fino a venerdì. Usate il ponte di ferro. "
            "Gli autobus fanno un altro giro. Chi ha dubbi può chiamare il Comune.")
    assert findings(tmp_path, md(easy + "\n"), "style.readability") == []


def test_readability_threshold_option(tmp_path: Path) -> None:
    assert findings(tmp_path, md(HARD + "\n"), "style.readability",
                    extra="rules:\n  style.readability: {min_gulpease: 30}\n") == []


def test_burocratese_data_file_has_enough_entries() -> None:
    raw = (resources.files("comunicast.rules") / "data" / "burocratese.yaml").read_text("utf-8")
    entries = yaml.safe_load(raw)
    assert len(entries) >= 60
    exprs = {e["expr"]: e.get("plain") for e in entries}
    assert exprs["ai sensi di"] == "secondo"
    assert exprs["al fine di"] == "per"
    assert exprs["in data odierna"] == "oggi"
    assert exprs["nelle more di"] == "in attesa di"
    assert exprs["altresì"] == "anche"
    assert "provvedere a" in exprs


def test_burocratese_with_suggestion_at_its_place(tmp_path: Path) -> None:
    text = md("""\
        Gentili cittadini,
        al fine di ridurre le code, ai sensi dell'articolo 3 apriamo anche il sabato.
        """)
    found = findings(tmp_path, text, "style.burocratese")
    assert places(found) == [(6, 1), (6, 29)]
    assert [f.suggestion for f in found] == ["per", "secondo"]
    assert found[0].severity.label == "info"


def test_burocratese_case_and_accent_insensitive_on_word_boundaries(tmp_path: Path) -> None:
    hits = [(s, e, x.expr) for s, e, x in find_burocratese(
        "ALTRESÌ chiuso; altresi aperto; Nelle  more\ndella gara.")]
    assert hits == [(0, 7, "altresì"), (16, 23, "altresì"), (32, 49, "nelle more di")]
    # Near misses: the same letters inside other words.
    assert list(find_burocratese("Gli arrivi e gli incentivi; il finale di stagione.")) == []


def test_burocratese_without_plain_alternative_says_what_to_do(tmp_path: Path) -> None:
    found = findings(tmp_path, md("Si provvederà alla pulizia delle strade.\n"), "style.burocratese")
    assert len(found) == 1 and found[0].suggestion is None
    assert "verb" in found[0].message


def test_shouting(tmp_path: Path) -> None:
    text = md("""\
        Domani piove.
        ATTENZIONE: STRADA CHIUSA PER LAVORI. Passate da via Dante.
        """)
    found = findings(tmp_path, text, "style.shouting")
    assert places(found) == [(6, 1)]
    assert found[0].suggestion == "Attenzione: strada chiusa per lavori"


def test_shouting_near_misses(tmp_path: Path) -> None:
    text = md("""\
        Pagate la TARI e l'IMU entro il 16 dicembre.
        ZTL e APU.
        Codice IT60 X054 2811.
        """)
    assert findings(tmp_path, text, "style.shouting") == []


def test_shouting_title(tmp_path: Path) -> None:
    found = findings(tmp_path, md("Testo.\n", title="PONTE CHIUSO PER LAVORI"), "style.shouting")
    assert places(found) == [(2, 8)]
