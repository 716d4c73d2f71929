"""`check` remembers the findings of unchanged drafts in the ledger: real runs of the installed
command, a real SQLite file, and every input that must make the cache miss."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import immutable, run_cli, write
from PIL import Image

from comunicast.config import load_config
from comunicast.ledger import Ledger
from comunicast.rules import cache as cache_module
from comunicast.rules import settings

NOW = {"COMUNICAST_NOW": "2026-11-28T09:00:00"}
DRAFT = """\
---
title: Chiusura dell'anagrafe
kind: avviso
publish_at: 2026-12-01 08:00
image: foto.png
image_alt: L'ingresso dell'ufficio
---
Ai sensi del regolamento, l'ufficio resta chiuso lunedì.
Informazioni: https://www.comune.cremona.it/anagrafe
"""
BUROCRATESE = "style.burocratese"


@pytest.fixture
def cached_project(project: Path) -> Path:
    """The minimal project with one draft (and its image) and an existing ledger."""
    write(project / "messages" / "anagrafe.md", DRAFT)
    Image.new("RGB", (64, 48), (20, 90, 160)).save(project / "messages" / "foto.png")
    Ledger.open(project / ".comunicast" / "ledger.sqlite3").close()
    return project


def _check(root: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    done = run_cli(["check", "--format", "json", *args], root, env={**NOW, **(env or {})})
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def _findings(report: dict) -> list[tuple[str, str, int | None, int | None, str]]:
    return [(f["rule"], f["severity"], f["line"], f["column"], f["message"])
            for file in report["files"] for f in file["findings"]]


def _entries(root: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(root / ".comunicast" / "ledger.sqlite3") as conn:
        return conn.execute("SELECT key, data FROM check_cache ORDER BY key").fetchall()


def _tamper(root: Path, old: str, new: str) -> None:
    """Change a remembered message, so that a run that uses the entry shows it."""
    with sqlite3.connect(root / ".comunicast" / "ledger.sqlite3") as conn:
        changed = conn.execute("UPDATE check_cache SET data = replace(data, ?, ?)", (old, new))
        assert changed.rowcount == 1


def test_second_run_answers_from_the_cache_with_the_same_report(cached_project: Path) -> None:
    first = _check(cached_project)
    [(key, data)] = _entries(cached_project)
    assert key.startswith("sha256:") and BUROCRATESE in data
    second = _check(cached_project)
    assert second == first
    # Proof the entry was used rather than the rules run again: a changed entry shows through.
    _tamper(cached_project, "is bureaucratic", "IS REMEMBERED")
    third = _check(cached_project)
    assert any(r == BUROCRATESE and "IS REMEMBERED" in m for r, _s, _l, _c, m in _findings(third))


@pytest.mark.parametrize("change", ["draft", "config", "image", "image-gone"])
def test_any_changed_input_is_a_miss(cached_project: Path, change: str) -> None:
    first = _check(cached_project)
    _tamper(cached_project, "is bureaucratic", "IS REMEMBERED")
    draft = cached_project / "messages" / "anagrafe.md"
    image = cached_project / "messages" / "foto.png"
    if change == "draft":
        draft.write_text(DRAFT.replace("lunedì", "martedì"), encoding="utf-8")
    elif change == "config":
        config = cached_project / "comunicast.yaml"
        config.write_text(config.read_text(encoding="utf-8")
                          + "rules:\n  style.readability: {severity: info}\n", encoding="utf-8")
    elif change == "image":
        Image.new("RGB", (640, 480), (200, 30, 30)).save(image)
    else:
        image.unlink()
    report = _check(cached_project)
    messages = [m for r, _s, _l, _c, m in _findings(report) if r == BUROCRATESE]
    assert messages and all("IS REMEMBERED" not in m for m in messages)
    if change == "image-gone":
        assert "media.missing" in {r for r, *_ in _findings(report)}
        assert "media.missing" not in {r for r, *_ in _findings(first)}


def test_the_clock_rules_run_every_time(cached_project: Path) -> None:
    before = _check(cached_project, env={"COMUNICAST_NOW": "2026-11-28T09:00:00"})
    assert "schedule.past" not in {r for r, *_ in _findings(before)}
    after = _check(cached_project, env={"COMUNICAST_NOW": "2026-12-02T09:00:00"})
    past = [(line, col) for r, _s, line, col, _m in _findings(after) if r == "schedule.past"]
    assert past == [(4, 13)]
    # The remembered entry holds no clock finding, and was not rewritten by the second run.
    [(_key, data)] = _entries(cached_project)
    assert "schedule." not in data


def test_an_offline_check_without_a_ledger_writes_nothing(project: Path) -> None:
    write(project / "messages" / "anagrafe.md", DRAFT.replace("image: foto.png\n", "")
          .replace("image_alt: L'ingresso dell'ufficio\n", ""))
    first = _check(project)
    assert not (project / ".comunicast").exists()
    assert _check(project) == first


@pytest.mark.parametrize("damage", [
    '{"f": [[1, 2]]',  # cut short
    '{"f": [["style.burocratese", 1, "m", "7", null, null, 1]], "l": []}',  # a line as text
    '{"f": [], "l": [["https://x.it", null, 1, true, 1, 1]]}',  # a column that is a boolean
])
def test_a_damaged_entry_is_checked_again_and_replaced(cached_project: Path, damage: str) -> None:
    first = _check(cached_project)
    with sqlite3.connect(cached_project / ".comunicast" / "ledger.sqlite3") as conn:
        conn.execute("UPDATE check_cache SET data = ?", (damage,))
    assert _check(cached_project) == first
    [(_key, data)] = _entries(cached_project)
    assert json.loads(data)["f"]


def test_a_ledger_from_before_the_cache_is_upgraded(cached_project: Path) -> None:
    from comunicast.ledger import MIGRATIONS

    ledger = cached_project / ".comunicast" / "ledger.sqlite3"
    ledger.unlink()
    Ledger.open(ledger, migrations=MIGRATIONS[:2]).close()
    first = _check(cached_project)  # reads no cache table: the rules run, then it is created
    assert len(_entries(cached_project)) == 1
    assert _check(cached_project) == first


def test_a_read_only_state_folder_only_costs_the_cache(cached_project: Path) -> None:
    state = cached_project / ".comunicast"
    _check(cached_project)
    _tamper(cached_project, "is bureaucratic", "IS REMEMBERED")
    before = _entries(cached_project)
    write(cached_project / "messages" / "altro.md", DRAFT.replace("lunedì", "martedì"))
    with immutable(state), immutable(state / "ledger.sqlite3"):
        report = _check(cached_project)  # reads what it can, writes nothing, fails nothing
    by_file = {f["path"]: [x["message"] for x in f["findings"] if x["rule"] == BUROCRATESE]
               for f in report["files"]}
    assert "IS REMEMBERED" in by_file["messages/anagrafe.md"][0]
    assert "is bureaucratic" in by_file["messages/altro.md"][0]
    assert _entries(cached_project) == before


def test_the_run_key_covers_code_version_config_and_rules(
    cached_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(cached_project / "comunicast.yaml")
    chosen = settings(config)

    def key() -> str:
        return cache_module.run_key(config, chosen).hexdigest()

    base = key()
    assert key() == base  # stable for the same inputs
    monkeypatch.setattr(cache_module, "__version__", "99.0")
    assert key() != base
    monkeypatch.undo()
    fingerprint = cache_module._code_fingerprint()
    assert any(path.endswith("shorteners.txt") or "data" in path for path, *_ in fingerprint)
    monkeypatch.setattr(cache_module, "_code_fingerprint",
                        lambda: [*fingerprint[:-1], (fingerprint[-1][0], 1, 1)])
    assert key() != base
    monkeypatch.undo()
    config.links.allowed_domains.append("example.org")
    assert key() != base


def test_builtin_adapters_match_the_entry_points() -> None:
    from importlib.metadata import distribution

    eps = distribution("comunicast").entry_points.select(group="comunicast.senders")
    assert {ep.name for ep in eps} == cache_module.BUILTIN_ADAPTERS
