"""SPEC §7: which language comunicast speaks, and how it writes dates and numbers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG, run_cli, write

from comunicast import i18n
from comunicast.i18n import (
    choose_language,
    configured_language,
    format_date,
    format_datetime,
    format_number,
    language,
)

UNSET = {"COMUNICAST_LANG": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}


@pytest.mark.parametrize(
    ("env", "config", "expected"),
    [
        ({}, None, "it"),  # nothing says anything: Italian
        ({}, "en", "en"),
        ({"LANG": "en_GB.UTF-8"}, None, "en"),
        ({"LANG": "en_GB.UTF-8"}, "it", "it"),  # the configuration beats the locale
        ({"COMUNICAST_LANG": "en"}, "it", "en"),  # COMUNICAST_LANG beats the configuration
        ({"COMUNICAST_LANG": "it", "LANG": "en_US.UTF-8"}, "en", "it"),
        ({"LC_ALL": "C", "LANG": "en_US.UTF-8"}, None, "en"),  # C decides nothing
        ({"LC_ALL": "C.UTF-8", "LC_MESSAGES": "POSIX", "LANG": "en_US"}, None, "en"),
        ({"LC_ALL": "C.UTF-8"}, None, "it"),
        ({"LC_ALL": "it_IT.UTF-8", "LANG": "en_US.UTF-8"}, None, "it"),  # LC_ALL first
        ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "it_IT.UTF-8"}, None, "en"),
        ({"LANG": "de_DE.UTF-8"}, None, "it"),  # a language comunicast does not speak
        ({"COMUNICAST_LANG": "fr", "LANG": "en_GB"}, None, "en"),  # ignored: not it or en
        ({"COMUNICAST_LANG": "it_IT.UTF-8"}, "en", "it"),
    ],
)
def test_language_is_chosen_as_spec_7_says(
    env: dict[str, str], config: str | None, expected: str
) -> None:
    assert choose_language(config, {**UNSET, **env}) == expected


def test_the_language_line_is_read_without_parsing_the_file(tmp_path: Path) -> None:
    path = tmp_path / "comunicast.yaml"
    for text, expected in [
        ("language: en\n", "en"),
        ("organization:\n  name: x\nlanguage: 'en'   # inglese\n", "en"),
        ('language: "it"\n', "it"),
        ("organization:\n  language: en\n", None),  # not a top-level key
        ("# language: en\n", None),
        ("language: en\n\tbroken: [\n", "en"),  # the rest of the file may be broken
    ]:
        path.write_text(text, encoding="utf-8")
        assert configured_language(path) == expected, text
    assert configured_language(tmp_path / "missing.yaml") is None


def test_italian_dates_and_numbers() -> None:
    with language("it"):
        assert format_datetime(datetime(2026, 12, 1, 8, 0)) == "1 dicembre 2026, 08:00"
        assert format_date(date(2027, 1, 31)) == "31 gennaio 2027"
        assert format_number(1200) == "1.200"
        assert format_number(4096) == "4.096"
        assert format_number(2.54, 1) == "2,5"
        assert format_number(1234567.891, 2) == "1.234.567,89"
    with language("en"):
        assert format_datetime(datetime(2026, 12, 1, 8, 0)) == "1 December 2026, 08:00"
        assert format_number(1200) == "1,200" and format_number(2.54, 1) == "2.5"
    assert i18n.current_language() == "en"  # restored


# -- before and after the configuration is read ---------------------------------------------------


def _project(root: Path, language_line: str) -> Path:
    write(root / "comunicast.yaml", MINIMAL_CONFIG + language_line)
    (root / "messages").mkdir(exist_ok=True)
    return root


def test_help_inside_a_project_follows_its_language(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "language: en\n")
    (root / "messages" / "sub").mkdir()
    italian_env = {**UNSET, "LANG": "it_IT.UTF-8"}
    inside = run_cli(["check", "--help"], root / "messages" / "sub", env=italian_env)
    assert inside.returncode == 0 and inside.stdout.startswith("Usage: comunicast check")
    assert "Show this message and exit." in inside.stdout
    outside = run_cli(["check", "--help"], tmp_path, env=italian_env)
    assert outside.stdout.startswith("Uso: comunicast check") and "Opzioni:" in outside.stdout
    assert "Mostra questo aiuto ed esce." in outside.stdout
    # --config and COMUNICAST_CONFIG name the project just as walking up finds it.
    named = run_cli(["--config", str(root / "comunicast.yaml"), "--help"], tmp_path, env=italian_env)
    assert named.stdout.startswith("Usage: comunicast")
    by_env = run_cli(["--help"], tmp_path, env={**italian_env, "COMUNICAST_CONFIG": str(root)})
    assert by_env.stdout.startswith("Usage: comunicast")
    forced = run_cli(["check", "--help"], root, env={**italian_env, "COMUNICAST_LANG": "it"})
    assert forced.stdout.startswith("Uso: comunicast check")


def test_usage_errors_inside_a_project_follow_its_language(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "language: it\n")
    done = run_cli(["check", "--bogus"], root, env={**UNSET, "LANG": "en_US.UTF-8"})
    assert done.returncode == 2
    assert "errore: Opzione sconosciuta: --bogus" in done.stderr and "Uso:" in done.stderr


def test_a_broken_configuration_is_reported_in_the_environment_s_language(tmp_path: Path) -> None:
    # `language: en`, but the file does not load: the environment (Italian) speaks.
    root = _project(tmp_path / "p", "language: en\ncolour: blu\n")
    done = run_cli(["check"], root, env={**UNSET, "LANG": "it_IT.UTF-8"})
    assert done.returncode == 3
    assert "errore:" in done.stderr and "chiave 'colour' sconosciuta" in done.stderr
    assert "suggerimento:" in done.stderr
    english = run_cli(["check"], root, env={**UNSET, "LANG": "en_GB.UTF-8"})
    assert "error:" in english.stderr and "unknown key 'colour'" in english.stderr


def test_once_read_the_configuration_speaks(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "language: en\n")
    done = run_cli(["check"], root, env={**UNSET, "LANG": "it_IT.UTF-8"})
    assert done.returncode == 0 and "0 files checked: no problems found" in done.stdout
    root_it = _project(tmp_path / "q", "")  # no `language:`: the environment decides
    assert "0 file controllati: nessun problema" in run_cli(["check"], root_it, env=UNSET).stdout
    english = run_cli(["check"], root_it, env={**UNSET, "LANG": "en_US.UTF-8"})
    assert "0 files checked" in english.stdout


def test_init_outside_a_project_follows_the_environment(tmp_path: Path) -> None:
    done = run_cli(["init", str(tmp_path / "nuovo")], tmp_path, env=UNSET)
    assert done.returncode == 0 and "Progetto comunicast creato in" in done.stderr


def test_the_findings_cache_remembers_each_language_apart(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "")
    write(root / "messages" / "a.md", "---\ntitle: Avviso\nkind: avviso\n---\nVedi http://www.comune.cremona.it/x\n")
    (root / ".comunicast").mkdir()
    run_cli(["publish", "--due"], root, env=UNSET)  # creates the ledger, so check remembers
    first = run_cli(["check"], root, env=UNSET)
    assert "link non sicuro" in first.stdout
    english = run_cli(["check"], root, env={**UNSET, "LANG": "en_GB.UTF-8"})
    assert "insecure link" in english.stdout
    again = run_cli(["check"], root, env=UNSET)
    assert "link non sicuro" in again.stdout
