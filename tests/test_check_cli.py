"""`comunicast check`: the command as users and CI run it (exit codes, formats, files, ledger)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_cli, write
from typer.testing import CliRunner

from comunicast.cli.app import app

REPO = Path(__file__).resolve().parents[1]
NOW = {"COMUNICAST_NOW": "2026-11-28T09:00:00"}

FOUR_ERRORS = (
    "---\ntitle: Contributi alle famiglie\nkind: notizia\n---\n"
    "Il contributo va a Mario Rossi, RSSMRA85T10A562S.\n"
    "Modulo: https://bit.ly/modulo-contributi\n"
    "Pagina: http://www.comune.cremona.it/contributi\n\n"
    + "Le famiglie possono chiedere il contributo in Comune, con un documento. " * 15
    + "\n"
)


def _errors(report: dict) -> list[tuple[str, int, int]]:
    return [(f["rule"], f["line"], f["column"])
            for file in report["files"] for f in file["findings"] if f["severity"] == "error"]


def test_example_drafts_pass_without_errors(tmp_path: Path) -> None:
    root = tmp_path / "cremona"
    shutil.copytree(REPO / "messages", root / "messages")
    shutil.copy(REPO / "comunicast.yaml", root / "comunicast.yaml")
    result = run_cli(["check", "--format", "json"], root, env=NOW)
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["summary"]["errors"] == 0
    assert report["summary"]["files"] == len(list((REPO / "messages").glob("*.md"))) + len(
        list((REPO / "messages").glob("*.y*ml")))


def test_draft_with_four_problems_gets_exactly_four_errors(project: Path) -> None:
    (project / "messages" / "contributi.md").write_text(FOUR_ERRORS, encoding="utf-8")
    assert len(FOUR_ERRORS.split("---\n", 2)[2]) > 1200
    result = run_cli(["check", "--format", "json"], project, env=NOW)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert _errors(report) == [
        ("length.text", 5, 1),
        ("privacy.codice-fiscale", 5, 33),
        ("links.shortener", 6, 9),
        ("links.scheme", 7, 9),
    ]
    assert report["summary"]["errors"] == 4


def test_json_output_shape(project: Path) -> None:
    write(project / "messages" / "a.md", """\
        ---
        title: Orari
        kind: servizio
        ---
        Orari: http://www.comune.cremona.it/orari
        """)
    result = run_cli(["check", "--format", "json"], project, env=NOW)
    report = json.loads(result.stdout)
    assert set(report) == {"version", "files", "summary"} and report["version"] == 1
    (file,) = report["files"]
    assert file["path"] == "messages/a.md" and file["draft_id"] == "a"
    (finding,) = file["findings"]
    assert finding == {
        "rule": "links.scheme", "severity": "error", "message": finding["message"],
        "line": 5, "column": 8, "suggestion": "https://www.comune.cremona.it/orari",
    }
    assert report["summary"] == {"files": 1, "errors": 1, "warnings": 0, "infos": 0}


def test_broken_draft_is_reported_and_others_still_checked(project: Path) -> None:
    write(project / "messages" / "buono.md", "---\ntitle: Ok\nkind: avviso\n---\nTutto bene.\n")
    write(project / "messages" / "rotto.md", "---\ntitle: [non chiuso\nkind: avviso\n---\nX\n")
    write(project / "messages" / "vuoto.yaml", "title: Senza testo\nkind: avviso\n")
    write(project / "messages" / "nota.txt", "non è una bozza")
    result = run_cli(["check", "--format", "json"], project, env=NOW)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    by_path = {f["path"]: f for f in report["files"]}
    assert set(by_path) == {"messages/buono.md", "messages/rotto.md", "messages/vuoto.yaml"}
    assert by_path["messages/buono.md"]["findings"] == []
    (broken,) = by_path["messages/rotto.md"]["findings"]
    assert broken["rule"] == "draft.syntax" and broken["severity"] == "error"
    assert broken["line"] == 3
    assert by_path["messages/rotto.md"]["draft_id"] is None
    assert by_path["messages/vuoto.yaml"]["findings"][0]["rule"] == "meta.required"


def test_files_and_folders_mixed(project: Path) -> None:
    write(project / "messages" / "a.md", "---\ntitle: A\nkind: avviso\n---\nTesto.\n")
    write(project / "messages" / "sub" / "b.md", "---\ntitle: B\nkind: avviso\n---\nTesto.\n")
    write(project / "altro" / "c.yaml", "title: C\nkind: avviso\ntext: Testo.\n")
    result = run_cli(["check", "messages/sub", "altro/c.yaml", "--format", "json"], project, env=NOW)
    assert result.returncode == 0, result.stderr
    assert [f["path"] for f in json.loads(result.stdout)["files"]] == ["altro/c.yaml",
                                                                        "messages/sub/b.md"]


def test_default_path_and_plain_text_output(project: Path) -> None:
    write(project / "messages" / "a.md", """\
        ---
        title: Orari
        kind: servizio
        ---
        Al fine di servirvi meglio: http://www.comune.cremona.it/orari
        """)
    result = run_cli(["check"], project, env=NOW)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == 'messages/a.md:5:1: info: "Al fine di" is bureaucratic: write "per" ' \
                       "[style.burocratese]"
    assert "messages/a.md:5:29: error: insecure link http://" in result.stdout
    assert "    suggestion: https://www.comune.cremona.it/orari" in lines
    assert lines[-1] == "1 file checked: 1 error, 0 warnings, 1 info"


def test_clean_run_summary_and_exit_zero(project: Path) -> None:
    write(project / "messages" / "a.md", "---\ntitle: Ok\nkind: avviso\n---\nTutto bene.\n")
    result = run_cli(["check"], project, env=NOW)
    assert result.returncode == 0
    assert result.stdout.strip() == "1 file checked: no problems found"


def test_github_annotations(project: Path) -> None:
    write(project / "messages" / "a, b.md", """\
        ---
        title: Orari
        kind: servizio
        ---
        Orari: http://www.comune.cremona.it/orari e https://bit.ly/x
        """)
    result = run_cli(["check", "--format", "github"], project, env=NOW)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        ("::error file=messages/a%2C b.md,line=5,col=8,title=links.scheme::insecure link http://: "
         "use https:// (check that the page opens with it) (suggestion: "
         "https://www.comune.cremona.it/orari)"),
        ("::error file=messages/a%2C b.md,line=5,col=45,title=links.shortener::bit.ly is a URL "
         "shortener: it hides where the link goes; link the full address of the page"),
    ]
    assert "2 errors" in result.stderr


def test_strict_makes_warnings_fail(project: Path) -> None:
    write(project / "messages" / "a.md", "---\ntitle: Ok\nkind: avviso\n---\nChiamate il 347 1234567.\n")
    assert run_cli(["check"], project, env=NOW).returncode == 0
    assert run_cli(["check", "--strict"], project, env=NOW).returncode == 1


def test_now_is_injectable_for_schedule_rules(project: Path) -> None:
    write(project / "messages" / "a.md",
          "---\ntitle: Ok\nkind: avviso\npublish_at: 2026-12-01 08:00\n---\nTesto.\n")
    before = run_cli(["check", "--format", "json"], project, env={"COMUNICAST_NOW": "2026-11-30T08:00"})
    after = run_cli(["check", "--format", "json"], project, env={"COMUNICAST_NOW": "2026-12-02T08:00"})
    assert json.loads(before.stdout)["summary"]["warnings"] == 0
    rules = [f["rule"] for f in json.loads(after.stdout)["files"][0]["findings"]]
    assert rules == ["schedule.past"]
    bad = run_cli(["check"], project, env={"COMUNICAST_NOW": "domani"})
    assert bad.returncode == 2


def test_schedule_past_silent_for_a_published_draft(project: Path) -> None:
    from comunicast.ledger import Ledger

    write(project / "messages" / "a.md",
          "---\ntitle: Ok\nkind: avviso\npublish_at: 2026-11-01 08:00\n---\nTesto.\n")
    env = {"COMUNICAST_NOW": "2026-12-02T08:00"}
    first = json.loads(run_cli(["check", "--format", "json"], project, env=env).stdout)
    assert [f["rule"] for f in first["files"][0]["findings"]] == ["schedule.past"]
    with Ledger.open(project / ".comunicast" / "ledger.sqlite3") as ledger:
        claim = ledger.claim("a", "console", "rev1")
        assert claim.publication is not None
        ledger.record(claim.publication.id, "sent", remote_id="1")
    second = json.loads(run_cli(["check", "--format", "json"], project, env=env).stdout)
    assert second["files"][0]["findings"] == []


@pytest.mark.parametrize(
    ("rules", "needle"),
    [("  links.cont: warning\n", "unknown rule 'links.cont'"),
     ("  links.count: {maximum: 2}\n", "no option 'maximum'")],
)
def test_bad_rules_config_exits_3_with_place(project: Path, rules: str, needle: str) -> None:
    config = project / "comunicast.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "rules:\n" + rules, encoding="utf-8")
    write(project / "messages" / "a.md", "---\ntitle: Ok\nkind: avviso\n---\nTesto.\n")
    result = run_cli(["check"], project, env=NOW)
    assert result.returncode == 3
    assert needle in result.stderr and "comunicast.yaml:16:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_path_exits_3(project: Path) -> None:
    result = run_cli(["check", "nessuna-cartella"], project, env=NOW)
    assert result.returncode == 3 and "does not exist" in result.stderr


def test_rich_output_on_a_terminal(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from comunicast import output

    write(project / "messages" / "a.md", """\
        ---
        title: Orari
        kind: servizio
        ---
        Orari: http://www.comune.cremona.it/orari
        """)
    console = Console(record=True, force_terminal=True, width=100, color_system="standard")
    monkeypatch.setattr(output, "is_terminal", lambda stream=None: True)
    monkeypatch.setattr(output, "stdout_console", lambda: console)
    monkeypatch.setenv("COMUNICAST_NOW", NOW["COMUNICAST_NOW"])
    result = CliRunner().invoke(app, ["check"], terminal_width=100)
    assert result.exit_code == 1
    text = console.export_text(clear=False)
    assert text.splitlines()[0] == "messages/a.md"
    assert "Orari: http://www.comune.cremona.it/orari" in text
    snippet = next(line for line in text.splitlines() if "│ Orari:" in line)
    caret = next(line for line in text.splitlines() if "^" in line)
    assert caret.index("^") == snippet.index("http://")
    assert caret.count("^") == len("http://www.comune.cremona.it/orari")
    assert "suggestion: https://www.comune.cremona.it/orari" in text
    assert "\x1b[" in console.export_text(styles=True)  # coloured
    assert text.rstrip().splitlines()[-1] == "1 file checked: 1 error, 0 warnings, 0 infos"


# Every finding must point at its text in the file, whatever YAML style holds the text or title.
PLACED_DRAFTS = {
    "folded.yaml": 'title: Folded\nkind: avviso\ntext: >\n  Prima riga normale\n'
                   '  e continua. Vedi http://www.comune.cremona.it/pagina per info.\n',
    "quoted.yaml": 'title: Quoted\nkind: avviso\n'
                   'text: "Citt\\u00e0 \\"bella\\".\\nVedi http://www.comune.cremona.it/x"\n',
    "plain.yaml": 'title: Plain\nkind: avviso\ntext: Prima riga\n'
                  '  seconda riga http://www.comune.cremona.it/x\n',
    "single.yaml": "title: Single\nkind: avviso\ntext: 'L''ufficio\n"
                   "  risponde: http://www.comune.cremona.it/x'\n",
    "title-escaped.yaml": 'title: "Titolo \\u00e8 di mario.rossi@gmail.com"\nkind: avviso\n'
                          'text: Testo.\n',
    "title-folded.md": "---\ntitle: >-\n  Titolo lungo\n  di mario.rossi@gmail.com\n"
                       "kind: avviso\n---\nTesto.\n",
}
PLACED_TEXT = {"links.scheme": "http://", "privacy.email": "mario.rossi@gmail.com"}


@pytest.mark.parametrize("name", sorted(PLACED_DRAFTS))
def test_findings_point_at_their_text_in_any_yaml_style(project: Path, name: str) -> None:
    path = project / "messages" / name
    path.write_text(PLACED_DRAFTS[name], encoding="utf-8")
    result = run_cli(["check", "--format", "json", str(path)], project, env=NOW)
    findings = [f for file in json.loads(result.stdout)["files"] for f in file["findings"]
                if f["rule"] in PLACED_TEXT]
    assert findings, result.stdout + result.stderr
    lines = PLACED_DRAFTS[name].splitlines()
    for f in findings:
        at = lines[f["line"] - 1][f["column"] - 1 :]
        assert at.startswith(PLACED_TEXT[f["rule"]]), (f, at)
