"""privacy.*: checksums, Italian phone formats, e-mail domains, and privacy.allow."""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_support import findings, md, places

from comunicast.rules.privacy import (
    codice_fiscale_valid,
    find_ibans,
    find_phones,
    iban_valid,
)


def test_codice_fiscale_valid_found_at_its_place(tmp_path: Path) -> None:
    text = md("Il signor Mario Rossi (RSSMRA85T10A562S) ha vinto.\n")
    found = findings(tmp_path, text, "privacy.codice-fiscale")
    assert places(found) == [(5, 24)]
    assert found[0].severity.label == "error"


def test_codice_fiscale_near_miss_bad_checksum(tmp_path: Path) -> None:
    # Sixteen characters of the right shape, but the check letter is wrong.
    assert not codice_fiscale_valid("RSSMRA85T10A562T")
    assert findings(tmp_path, md("Pratica RSSMRA85T10A562T.\n"), "privacy.codice-fiscale") == []


def test_codice_fiscale_omocodia_and_lowercase(tmp_path: Path) -> None:
    # Omocodia: the last digit 2 replaced by N; the check letter changes from S to H.
    assert codice_fiscale_valid("RSSMRA85T10A56NH")
    assert codice_fiscale_valid("BNCLRA90A41F205I")  # a woman: day of birth + 40
    text = md("Codici: rssmra85t10a562s e RSSMRA85T10A56NH\n")
    assert places(findings(tmp_path, text, "privacy.codice-fiscale")) == [(5, 9), (5, 28)]


def test_codice_fiscale_in_title(tmp_path: Path) -> None:
    found = findings(tmp_path, md("Testo.\n", title="Pratica RSSMRA85T10A562S"),
                     "privacy.codice-fiscale")
    assert places(found) == [(2, 16)]


@pytest.mark.parametrize(
    "iban",
    ["IT60 X054 2811 1010 0000 0123 456", "IT60X0542811101000000123456",
     "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606"],
)
def test_iban_mod97_any_country(iban: str) -> None:
    assert iban_valid(iban)
    assert [m[2] for m in find_ibans(f"Versate su {iban} entro venerdì")] == ["".join(iban.split())]


def test_iban_found_at_its_place(tmp_path: Path) -> None:
    text = md("Bonifico a\nIBAN IT60 X054 2811 1010 0000 0123 456, causale TARI.\n")
    found = findings(tmp_path, text, "privacy.iban")
    assert places(found) == [(6, 6)]


def test_iban_near_misses(tmp_path: Path) -> None:
    assert not iban_valid("IT61X0542811101000000123456")  # one check digit off
    assert not iban_valid("IT60X054281110100000012345")  # Italian IBANs have 27 characters
    assert findings(tmp_path, md("Codice IT61 X054 2811 1010 0000 0123 456.\n"), "privacy.iban") == []


def test_iban_in_privacy_allow_is_not_flagged(tmp_path: Path) -> None:
    extra = """\
        privacy:
          allow: ["IT60 X054 2811 1010 0000 0123 456"]
        """
    from conftest import MINIMAL_CONFIG
    from rules_support import make_config, make_draft

    from comunicast.rules import check_draft

    base = MINIMAL_CONFIG.replace('privacy:\n  allow: ["0372 407111", "urp@comune.cremona.it"]\n', "")
    config = make_config(tmp_path, extra, base=base)
    draft = make_draft(tmp_path, md("Versate su IT60X0542811101000000123456.\n"), config)
    assert [f for f in check_draft(draft, config) if f.rule == "privacy.iban"] == []


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("chiamate il +39 347 123 4567 oggi", "3471234567"),
        ("chiamate il 347.123.4567 oggi", "3471234567"),
        ("chiamate il 333-1234567 oggi", "3331234567"),
        ("chiamate lo 0372 123456 oggi", "0372123456"),
        ("chiamate lo 02/12345678 oggi", "0212345678"),
        ("chiamate lo 0039 06 69821 oggi", "0669821"),
    ],
)
def test_phone_formats(text: str, digits: str) -> None:
    assert [d for _s, _e, d in find_phones(text)] == [digits]


@pytest.mark.parametrize(
    "text",
    ["il 01.12.2026 alle 8.30", "costa 15.000 euro", "CAP 26100 Cremona",
     "numero verde 800 123 456", "protocollo n. 2026/123456", "anno 2026-2027"],
)
def test_phone_near_misses(text: str) -> None:
    assert list(find_phones(text)) == []


def test_phone_found_and_allowed(tmp_path: Path) -> None:
    text = md("URP: +39 0372 407111 oppure 0372.407111; Mario: 347 123 4567.\n")
    found = findings(tmp_path, text, "privacy.phone")
    assert places(found) == [(5, 49)]
    assert found[0].severity.label == "warning"


def test_email(tmp_path: Path) -> None:
    text = md("Scrivete a urp@comune.cremona.it, tributi@cremona.it o a mario.rossi@gmail.com.\n")
    found = findings(tmp_path, text, "privacy.email")
    assert places(found) == [(5, 58)]
    assert "mario.rossi@gmail.com" in found[0].message


def test_email_allowed_by_privacy_allow(tmp_path: Path) -> None:
    from conftest import MINIMAL_CONFIG
    from rules_support import make_config, make_draft

    from comunicast.rules import check_draft

    base = MINIMAL_CONFIG.replace('"urp@comune.cremona.it"', '"protocollo@pec.example.it"')
    config = make_config(tmp_path, base=base)
    draft = make_draft(tmp_path, md("PEC: protocollo@pec.example.it\n"), config)
    assert [f for f in check_draft(draft, config) if f.rule == "privacy.email"] == []


@pytest.mark.parametrize(
    ("body", "rule", "column"),
    [
        ("Scrivere a [Mario](mailto:mario.rossi@gmail.com).\n", "privacy.email", 27),
        ("Scrivere a <mailto:mario.rossi@gmail.com>.\n", "privacy.email", 20),
        ("Chiamare [Mario](tel:+393331234567).\n", "privacy.phone", 22),
        ("[Modulo](https://www.comune.cremona.it/f?cf=RSSMRA85T10A562S)\n",
         "privacy.codice-fiscale", 45),
    ],
)
def test_personal_data_inside_links_is_found(
    tmp_path: Path, body: str, rule: str, column: int
) -> None:
    # The link's address is published too (tapping it writes or calls that person).
    assert places(findings(tmp_path, md(body), rule)) == [(5, column)]


def test_organization_addresses_in_links_are_fine(tmp_path: Path) -> None:
    body = ("[Scrivici](mailto:urp@comune.cremona.it), [chiamaci](tel:+390372407111), "
            "https://www.comune.cremona.it/notizie/2026/0372407111\n")
    found = [f for f in findings(tmp_path, md(body)) if f.rule.startswith("privacy.")]
    assert found == []
