"""`analyze`: links, unsupported constructs, emphasis and text runs, at the right source places."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import yaml

from comunicast.render import TARGETS, Construct, Emphasis, Link, analyze, render

GOLDEN = Path(__file__).parent / "golden" / "render" / "cases.yaml"


def _lines(body: str) -> list[str]:
    return body.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _at(body: str, line: int, column: int, length: int) -> str:
    return _lines(body)[line][column : column + length]


def test_links_in_order_with_positions() -> None:
    body = (
        "Vedi [percorsi](https://www.comune.cremona.it/viabilita) e https://x.it/a_b.\n"
        "> Citazione <https://x.it/auto> e \\*x\\* https://x.it/*y*\n"
        "- voce con `codice https://no.it` e [qui](http://x.it/q)\n"
        "  1. annidata ![mappa](https://x.it/m.png)"
    )
    links = analyze(body).links
    assert [(link.url, link.label, link.bare, link.image) for link in links] == [
        ("https://www.comune.cremona.it/viabilita", "percorsi", False, False),
        ("https://x.it/a_b", None, True, False),
        ("https://x.it/auto", None, True, False),
        ("https://x.it/*y*", None, True, False),
        ("http://x.it/q", "qui", False, False),
        ("https://x.it/m.png", "mappa", False, True),
    ]
    starts = [_at(body, link.line, link.column, 1) for link in links]
    assert starts == ["[", "h", "<", "h", "[", "!"]
    for link in links:
        assert _at(body, link.url_line, link.url_column, len(link.url)) == link.url
    assert (links[0].line, links[0].column, links[0].url_column) == (0, 5, 16)
    assert (links[2].line, links[2].column) == (1, 12)
    assert (links[5].line, links[5].column) == (3, 14)


def test_link_from_reference_definition_points_at_the_link() -> None:
    body = "Leggi il [bando][1].\n\n[1]: https://x.it/bando"
    (link,) = analyze(body).links
    assert (link.url, link.label, link.line, link.column) == ("https://x.it/bando", "bando", 0, 9)
    assert (link.url_line, link.url_column) == (0, 9)


def test_links_with_unusual_schemes_are_reported_for_the_rules() -> None:
    body = "[clicca qui](javascript:alert(1)) [dati](data:text/html,x) [posta](mailto:a@b.it)"
    urls = [link.url for link in analyze(body).links]
    assert urls == ["javascript:alert(1)", "data:text/html,x", "mailto:a@b.it"]


def test_links_after_multibyte_characters_and_entities() -> None:
    body = "«Città» 🇮🇹 &amp; l’anno… [qui](https://x.it)\n\u00a0👨\u200d👩\u200d👧 https://y.it"
    first, second = analyze(body).links
    assert _at(body, first.line, first.column, 5) == "[qui]"
    assert first.column == 25  # code points, not bytes or UTF-16 units
    assert _at(body, second.line, second.column, 12) == "https://y.it"


def test_unsupported_constructs_with_positions() -> None:
    body = (
        "# Titolo\n"
        "Testo <b>grassetto</b> e ![img](https://x.it/i.png)\n"
        "\n"
        "| a | b |\n"
        "|---|---|\n"
        "| 1 | 2 |\n"
        "\n"
        "  <div>\n"
        "  blocco\n"
        "  </div>\n"
        "\n"
        "Titolo due\n"
        "---\n"
    )
    found = [(c.kind, c.line, c.column, c.snippet) for c in analyze(body).unsupported]
    assert found == [
        ("heading", 0, 0, "# Titolo"),
        ("html", 1, 6, "<b>"),
        ("html", 1, 18, "</b>"),
        ("image", 1, 25, "![img](https://x.it/i.png)"),
        ("table", 3, 0, "| a | b |"),
        ("html", 7, 2, "<div>"),
        ("heading", 11, 0, "Titolo due"),
    ]


def test_unsupported_constructs_inside_quotes_and_lists() -> None:
    body = "> # Nel quote\n\n- ## Nella lista\n\n> <div>x</div>\n\n1. | a |\n   |---|\n   | b |"
    found = [(c.kind, c.line, c.column, c.snippet) for c in analyze(body).unsupported]
    assert found == [
        ("heading", 0, 2, "# Nel quote"),
        ("heading", 2, 2, "## Nella lista"),
        ("html", 4, 2, "<div>x</div>"),
        ("table", 6, 3, "| a |"),
    ]


def test_long_snippets_are_shortened() -> None:
    (construct,) = analyze("# " + "parola " * 20).unsupported
    assert isinstance(construct, Construct)
    assert len(construct.snippet) == 60
    assert construct.snippet.endswith("…")


def test_single_star_emphasis_is_reported_with_its_text() -> None:
    body = "Un *avviso* e _corsivo_ e **grassetto**\n> ***tutti*** e *due parole*"
    emphasis = analyze(body).emphasis
    assert emphasis == (
        Emphasis(0, 3, "avviso"),
        Emphasis(1, 2, "tutti"),
        Emphasis(1, 16, "due parole"),
    )
    for item in emphasis:
        assert _at(body, item.line, item.column, 1) == "*"


def test_text_runs_are_exact_source_slices_outside_code_and_urls() -> None:
    body = (
        "Chiamare il **0372 407111** o scrivere a mario_rossi@example.com\n"
        "codice `RSSMRA80A01D150X` e https://x.it/RSSMRA80A01D150X qui.\n"
        "> IBAN IT60X0542811101000000123456\n"
        "- [Pagina di Mario](https://x.it/mario)"
    )
    runs = analyze(body).text_runs
    texts = [run.text for run in runs]
    assert "0372 407111" in texts
    assert " o scrivere a mario_rossi@example.com" in texts
    assert not any("RSSMRA80A01D150X" in text for text in texts)  # code and URL excluded
    assert "IBAN IT60X0542811101000000123456" in texts
    assert "Pagina di Mario" in texts  # link labels are text
    for run in runs:
        assert _at(body, run.line, run.column, len(run.text)) == run.text


def test_regex_matches_in_runs_map_to_file_positions() -> None:
    body = "Intro.\n\n- Tel. **0372 407111** (URP)\n  > int. 333 1234567"
    phone = re.compile(r"\d{3,4} \d{6,7}")
    places = []
    for run in analyze(body).text_runs:
        for m in phone.finditer(run.text):
            places.append((run.line, run.column + m.start(), m.group(0)))
    assert places == [(2, 9, "0372 407111"), (3, 9, "333 1234567")]


def test_blocks_carry_reading_text_without_urls() -> None:
    body = "# Avviso\n\nIl **ponte** è chiuso: https://x.it/a.\nRiga due.\n\n| a |\n|---|\n| b |"
    blocks = [(b.kind, b.line, b.end_line, b.text) for b in analyze(body).blocks]
    assert blocks == [
        ("heading", 0, 0, "Avviso"),
        ("paragraph", 2, 3, "Il ponte è chiuso: .\nRiga due."),
        ("table_cell", 5, 5, "a"),
        ("table_cell", 7, 7, "b"),
    ]


def test_table_cells_with_equal_text_get_their_own_columns() -> None:
    body = "| x | x |\n|---|---|\n| 1 | 1 |"
    runs = [(run.line, run.column, run.text) for run in analyze(body).text_runs]
    assert runs == [(0, 2, "x"), (0, 6, "x"), (2, 2, "1"), (2, 6, "1")]


def test_crlf_bodies_keep_their_line_numbers() -> None:
    body = "uno\r\ndue [link](https://x.it)\r\n\r\n*tre*"
    facts = analyze(body)
    assert [(link.line, link.column) for link in facts.links] == [(1, 4)]
    assert facts.emphasis == (Emphasis(3, 0, "tre"),)


def test_positions_after_escapes_entities_and_hard_breaks() -> None:
    body = "a \\*b\\* &copy; `c` *d*  \n\\[e\\] https://x.it/f\\\ng *h*"
    facts = analyze(body)
    assert [(e.line, e.column, e.text) for e in facts.emphasis] == [(0, 19, "d"), (2, 2, "h")]
    assert [(link.line, link.column) for link in facts.links] == [(1, 6)]


def test_results_are_immutable_and_cached() -> None:
    body = "Un *caso* https://x.it"
    facts = analyze(body)
    assert analyze(body) is facts
    assert isinstance(facts.links, tuple)
    with pytest.raises(AttributeError):
        facts.links[0].url = "x"  # type: ignore[misc]
    assert isinstance(facts.links[0], Link)


# -- invariants over many bodies ----------------------------------------------------------------


def _golden_bodies() -> list[str]:
    return [case["body"] for case in yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))]


_PIECES = [
    "parola",
    "«Città»",
    "**forte**",
    "*corsivo*",
    "_sotto_",
    "~~via~~",
    "`cod`",
    "\\*",
    "https://x.it/a_b",
    "[etichetta](https://y.it/p)",
    "<https://z.it>",
    "![alt](https://i.it/a.png)",
    "<b>",
    "&amp;",
    "5 * 3",
    "snake_case",
    "🇮🇹",
    "👨\u200d👩\u200d👧",
    "\u00a0",
    "…",
]
_STARTS = ["", "", "- ", "1. ", "> ", "# ", "  - ", "> - "]


def _generated_bodies(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        lines = []
        for _ in range(rng.randint(1, 6)):
            words = [rng.choice(_PIECES) for _ in range(rng.randint(1, 6))]
            lines.append(rng.choice(_STARTS) + " ".join(words))
            if rng.random() < 0.3:
                lines.append("")
        bodies.append("\n".join(lines))
    return bodies


@pytest.mark.parametrize("body", _golden_bodies() + _generated_bodies(7, 150))
def test_every_position_points_at_its_source(body: str) -> None:
    facts = analyze(body)
    for run in facts.text_runs:
        assert _at(body, run.line, run.column, len(run.text)) == run.text, run
    for link in facts.links:
        written = _at(body, link.url_line, link.url_column, len(link.url))
        from_reference = (link.url_line, link.url_column) == (link.line, link.column)
        assert written == link.url or link.url.startswith("mailto:") or from_reference, link
        assert _at(body, link.line, link.column, 1).lower() in "[<!h", link
    for item in facts.emphasis:
        assert _at(body, item.line, item.column, 1) == "*", item
    for construct in facts.unsupported:
        line = _lines(body)[construct.line]
        assert line[construct.column :].startswith(construct.snippet.rstrip("…")[:10]), construct


def test_paragraph_opening_with_a_line_of_non_breaking_spaces() -> None:
    body = "\u00a0\nPrima *riga*\nseconda https://x.it"
    facts = analyze(body)
    assert facts.emphasis == (Emphasis(1, 6, "riga"),)
    assert [(link.line, link.column) for link in facts.links] == [(2, 8)]


def test_table_cell_with_escaped_pipe() -> None:
    body = "| a \\| *b* |\n|---|\n| c |"
    facts = analyze(body)
    assert facts.emphasis == (Emphasis(0, 7, "b"),)
    for run in facts.text_runs:
        assert _at(body, run.line, run.column, len(run.text)) == run.text


_FUZZ_ALPHABET = [
    *"ab c*_~`>#-+1.)[](<>!:/\\&;|\n\n   \t",
    "https://x.it/",
    "**",
    "~~",
    "```",
    "\u00a0",
    "é",
    "🇮🇹",
    "&amp;",
    "<b>",
    "| a |\n|---|\n",
    "\r\n",
]


def _fuzz(seed: int, count: int) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        body = "".join(rng.choice(_FUZZ_ALPHABET) for _ in range(rng.randint(0, 60)))
        for target in TARGETS:
            rendered = render(body, title=rng.choice([None, "T *x*"]), target=target)
            assert rendered == rendered.rstrip()
            assert not re.search("[\ufdd0-\ufdef]", rendered), (body, rendered)
        facts = analyze(body)
        for run in facts.text_runs:
            assert _at(body, run.line, run.column, len(run.text)) == run.text, (body, run)
        for item in facts.emphasis:
            assert _at(body, item.line, item.column, 1) == "*", (body, item)
        for link in facts.links:
            written = _lines(body)[link.url_line][link.url_column :]
            # In a table cell the URL markdown-it sees has `\|` unescaped.
            placed = written.startswith((link.url, link.url.replace("|", "\\|"))) or (
                link.url_line,
                link.url_column,
            ) == (link.line, link.column)
            assert placed or link.url.startswith("mailto:"), (body, link)


def test_random_markdown_never_breaks_rendering_or_positions() -> None:
    _fuzz(11, 300)


@pytest.mark.stress
@pytest.mark.parametrize("seed", range(4))
def test_random_markdown_at_length(seed: int) -> None:
    _fuzz(100 + seed, 20000)
