"""links.*: parsed with a URL parser, placed at the URL, with near misses that must not fire."""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_support import findings, md, places

from comunicast.rules.links import deception, in_domains, is_ip_literal, is_shortener, other_domain

# Body lines start at line 5 of the file (---, title, kind, ---).


def test_scheme_http_with_https_suggestion(tmp_path: Path) -> None:
    found = findings(tmp_path, md("Orari: http://www.comune.cremona.it/orari\n"), "links.scheme")
    assert places(found) == [(5, 8)]
    assert found[0].suggestion == "https://www.comune.cremona.it/orari"
    assert found[0].severity.label == "error"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,ciao", "ftp://x.it/a"])
def test_scheme_other_schemes_in_markdown_links(tmp_path: Path, url: str) -> None:
    found = findings(tmp_path, md(f"Vedi [la pagina]({url}).\n"), "links.scheme")
    assert len(found) == 1
    assert found[0].line == 5 and found[0].column == 18
    assert "https" in found[0].message


def test_scheme_near_miss_https_and_mailto(tmp_path: Path) -> None:
    text = md("Vedi https://www.comune.cremona.it e [scrivici](mailto:urp@comune.cremona.it).\n")
    assert findings(tmp_path, text, "links.scheme") == []


def test_domain_subdomain_allowed_lookalike_not(tmp_path: Path) -> None:
    text = md("""\
        Bene: https://servizi.comune.cremona.it/a e https://cremona.it/b
        Male: https://comune.cremona.it.evil.com/a e https://notcremona.it/x
        """)
    found = findings(tmp_path, text, "links.domain")
    assert places(found) == [(6, 7), (6, 46)]
    assert "comune.cremona.it.evil.com" in found[0].message


def test_in_domains_is_not_a_substring_match() -> None:
    assert in_domains("www.comune.cremona.it", ["comune.cremona.it"])
    assert in_domains("comune.cremona.it.", ["comune.cremona.it"])
    assert not in_domains("comune.cremona.it.evil.com", ["comune.cremona.it"])
    assert not in_domains("evilcomune.cremona.it.com", ["cremona.it"])
    assert not in_domains("xcremona.it", ["cremona.it"])


def test_shortener(tmp_path: Path) -> None:
    text = md("Modulo: https://bit.ly/3abc e https://forms.gle/xyz\n")
    found = findings(tmp_path, text, "links.shortener")
    assert places(found) == [(5, 9), (5, 31)]
    # One error is enough: links.domain does not repeat it as a warning.
    assert findings(tmp_path / "b", text, "links.domain") == []


def test_shortener_near_miss_and_options(tmp_path: Path) -> None:
    # A domain that merely ends with the same letters is not the shortener.
    assert not is_shortener("habit.ly")
    assert is_shortener("www.bit.ly")
    assert is_shortener("go.example.org", extra=["go.example.org"])
    assert not is_shortener("youtu.be", allow=["youtu.be"])
    text = md("Video: https://youtu.be/abc\n")
    assert findings(tmp_path, text, "links.shortener",
                    extra="rules:\n  links.shortener: {allow: [youtu.be]}\n") == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://comune.cremona.it@evil.example/login", "user-info"),
        ("https://192.168.1.10/x", "IP"),
        ("https://3232235777/x", "IP"),
        ("https://0xC0A80001/x", "IP"),
        ("https://0300.0250.0.1/x", "IP"),
        ("https://127.1/x", "IP"),
        ("https://xn--comne-bva.it/x", "punycode"),
        ("https://соmune.cremona.it/x", "alphabets"),  # Cyrillic с and о
    ],
)
def test_deceptive(tmp_path: Path, url: str, why: str) -> None:
    found = findings(tmp_path, md(f"Vai a {url} ora.\n"), "links.deceptive")
    assert places(found) == [(5, 7)]
    reason = deception(url)
    assert reason is not None
    assert why.lower() in (reason.lower() + found[0].message.lower()) or why == "IP" and "IP" in reason


def test_deceptive_ipv6_in_a_markdown_link(tmp_path: Path) -> None:
    found = findings(tmp_path, md("Vai [al sito](https://[2001:db8::1]/x).\n"), "links.deceptive")
    assert places(found) == [(5, 15)]
    assert "2001:db8::1" in found[0].message


def test_deceptive_near_misses() -> None:
    assert deception("https://www.comune.cremona.it/2026/12/01/avviso") is None
    assert deception("https://comune.cremona.it:8443/a?u=a@b") is None  # '@' in the query is fine
    assert deception("https://città.example.it/") is None  # one script (Latin), even with accents
    assert not is_ip_literal("2026.comune.it")
    assert is_ip_literal("::1")


def test_label(tmp_path: Path) -> None:
    text = md("Per iscriverti [clicca qui](https://www.comune.cremona.it/iscrizioni).\n"
              "Leggi gli [orari dell'anagrafe](https://www.comune.cremona.it/orari).\n")
    found = findings(tmp_path, text, "links.label")
    assert places(found) == [(5, 16)]
    assert "clicca qui" in found[0].message


def test_label_case_and_punctuation_insensitive(tmp_path: Path) -> None:
    text = md("[QUI!](https://www.comune.cremona.it/a)\n")
    assert places(findings(tmp_path, text, "links.label")) == [(5, 1)]


def test_count(tmp_path: Path) -> None:
    three = " ".join(f"https://www.comune.cremona.it/{i}" for i in range(3))
    four = " ".join(f"https://www.comune.cremona.it/{i}" for i in range(4))
    assert findings(tmp_path, md(three + "\n"), "links.count") == []
    found = findings(tmp_path / "b", md(four + "\n"), "links.count")
    assert len(found) == 1
    assert found[0].line == 5 and found[0].column == 1 + 3 * len("https://www.comune.cremona.it/0 ")


def test_links_in_yaml_draft_are_placed_in_the_file(tmp_path: Path) -> None:
    text = """\
        title: Avviso
        kind: avviso
        text: |
          Prima riga.
          Vedi http://www.comune.cremona.it/x
        """
    from rules_support import make_config, make_draft

    from comunicast.rules import check_draft

    config = make_config(tmp_path)
    draft = make_draft(tmp_path, text, config, name="bozza.yaml")
    found = [f for f in check_draft(draft, config) if f.rule == "links.scheme"]
    assert places(found) == [(5, 8)]


def test_other_domain_for_redirects() -> None:
    assert not other_domain("https://comune.cremona.it/a", "https://www.comune.cremona.it/a")
    assert not other_domain("http://cremona.it/a", "https://servizi.cremona.it/b")
    assert other_domain("https://comune.cremona.it/a", "https://example.com/")


def test_links_in_the_title_are_checked(tmp_path: Path) -> None:
    # The title is the message's first line: a URL there is published and auto-linked.
    text = md("Testo.\n", title="Modulo su http://bit.ly/abc")
    assert places(findings(tmp_path, text, "links.scheme")) == [(2, 18)]
    assert places(findings(tmp_path / "b", text, "links.shortener")) == [(2, 18)]


def test_links_in_the_title_are_not_checked_when_it_is_not_sent(tmp_path: Path) -> None:
    text = md("Testo.\n", title="Modulo su http://bit.ly/abc")
    assert findings(tmp_path, text, "links.scheme", extra="render:\n  title: false\n") == []


def test_scheme_of_an_address_with_a_bad_port_is_still_read(tmp_path: Path) -> None:
    # https:// is there: the problem is the port (links.deceptive says the address is unreadable).
    text = md("Vedi [la pagina](https://www.comune.cremona.it:65536/a).\n")
    assert findings(tmp_path, text, "links.scheme") == []
    assert places(findings(tmp_path / "b", text, "links.deceptive")) == [(5, 18)]
