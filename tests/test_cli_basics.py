"""The CLI shell: version, help, init, new, schema, preview, and the error boundary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli, write
from typer.testing import CliRunner

from comunicast import __version__
from comunicast.cli.app import COMMANDS, app
from comunicast.drafts import Kind, load_draft, load_drafts

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=100)
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and out.strip() == f"comunicast {__version__}"


def test_every_command_has_help() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for name in COMMANDS:
        assert name in out
        sub_code, sub_out, _ = invoke(name, "--help")
        assert sub_code == 0 and "Usage:" in sub_out and len(sub_out) > 80


def test_unknown_option_is_a_usage_error() -> None:
    code, _, err = invoke("--no-such-option")
    assert code == 2 and "No such option" in err


def test_init_creates_project_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "x"
    first = run_cli(["init", str(target)], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (target / "comunicast.yaml").is_file()
    assert ".comunicast/" in (target / ".gitignore").read_text()
    examples = sorted((target / "messages").glob("*.md"))
    loaded = load_drafts([target / "messages"], __import__("zoneinfo").ZoneInfo("Europe/Rome"))
    assert not loaded.errors, [str(e) for e in loaded.errors]
    assert {d.kind for d in loaded.drafts} == set(Kind)  # one example per kind
    assert len(examples) >= 6
    # the written config is valid and points editors at the schema
    assert "yaml-language-server" in (target / "comunicast.yaml").read_text()
    preview = run_cli(["preview", str(examples[0].relative_to(target))], cwd=target)
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.strip()

    again = run_cli(["init", str(target)], cwd=tmp_path)
    assert again.returncode == 3
    assert "comunicast.yaml" in again.stderr and "--force" in again.stderr
    forced = run_cli(["init", str(target), "--force"], cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr


def test_init_appends_to_an_existing_gitignore(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "*.pyc")
    assert run_cli(["init"], cwd=tmp_path).returncode == 0
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[0] == "*.pyc" and ".comunicast/" in lines


@pytest.mark.parametrize("kind", [k.value for k in Kind] + ["deadline", "event"])
def test_new_creates_a_loadable_draft_per_kind(project: Path, kind: str) -> None:
    result = run_cli(
        ["new", "Ponte sul Po: chiuso per lavori!", "--kind", kind, "--at", "2026-12-01 08:00"],
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    path = project / result.stdout.strip()
    assert path.name == "2026-12-01-ponte-sul-po-chiuso-per-lavori.md"
    draft = load_draft(path, __import__("zoneinfo").ZoneInfo("Europe/Rome"))
    assert draft.title == "Ponte sul Po: chiuso per lavori!"
    assert draft.publish_at is not None and draft.publish_at.hour == 8


def test_new_never_overwrites(project: Path) -> None:
    env = {"COMUNICAST_NOW": "2026-11-28T10:00:00"}
    first = run_cli(["new", "Avviso"], cwd=project, env=env)
    second = run_cli(["new", "Avviso"], cwd=project, env=env)
    assert first.stdout.strip() == "messages/2026-11-28-avviso.md"
    assert second.stdout.strip() == "messages/2026-11-28-avviso-2.md"


def test_new_rejects_bad_kind_and_date(project: Path) -> None:
    bad_kind = run_cli(["new", "X", "--kind", "festa"], cwd=project)
    assert bad_kind.returncode == 2 and "unknown kind 'festa'" in bad_kind.stderr
    bad_at = run_cli(["new", "X", "--at", "domani"], cwd=project)
    assert bad_at.returncode == 2 and "--at" in bad_at.stderr


@pytest.mark.parametrize("name", ["config", "draft"])
def test_schema_is_valid_json_schema(name: str) -> None:
    import jsonschema

    code, out, _ = invoke("schema", name)
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    if name == "draft":
        validator = jsonschema.Draft202012Validator(schema)
        assert not list(validator.iter_errors({"title": "T", "kind": "avviso", "text": "x"}))
        assert list(validator.iter_errors({"title": "T", "kind": "avviso", "colour": "x"}))
    else:
        assert "organization" in schema["properties"]


def test_config_schema_knows_the_rules_and_their_shorthands() -> None:
    import jsonschema
    import yaml

    code, out, _ = invoke("schema", "config")
    assert code == 0
    validator = jsonschema.Draft202012Validator(json.loads(out))
    base = {"organization": {"name": "X"}, "channel": {"invite_url": "https://x.it"}}

    def errors(rules: str) -> list[str]:
        return [e.message for e in validator.iter_errors({**base, "rules": yaml.safe_load(rules)})]

    # What comunicast itself accepts, editors accept: `off` unquoted (YAML false), a bare severity.
    assert errors("{links.count: off, style.shouting: info, length.text: {max_chars: 800}}") == []
    assert errors("{style.readability: {severity: warning, min_gulpease: 55.5}}") == []
    # What comunicast refuses (exit 3), editors flag: unknown rules and options, bad types.
    assert errors("{links.cont: off}")
    assert errors("{style.readability: {min_gulpeas: 60}}")
    assert errors("{style.readability: {min_gulpease: alto}}")
    assert errors("{links.count: loud}")


def test_config_error_exit_3_without_traceback(tmp_path: Path) -> None:
    write(
        tmp_path / "comunicast.yaml", "organization: {name: X}\nchannel: {invite_url: x}\nfoo: 1\n"
    )
    write(tmp_path / "messages" / "a.md", "---\ntitle: T\nkind: avviso\n---\nx\n")
    result = run_cli(["preview", "messages/a.md"], cwd=tmp_path)
    assert result.returncode == 3
    assert "comunicast.yaml:3:1: unknown key 'foo'" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run_cli(["--debug", "preview", "messages/a.md"], cwd=tmp_path)
    assert debug.returncode == 3 and "Traceback" in debug.stderr


def test_missing_path_argument_is_exit_3(project: Path) -> None:
    result = run_cli(["preview", "messages/nope.md"], cwd=project)
    assert result.returncode == 3 and "messages/nope.md does not exist" in result.stderr


@pytest.mark.parametrize("drafts", [0, 1, 2])
def test_preview_of_a_folder_is_a_usage_error(project: Path, drafts: int) -> None:
    for i in range(drafts):
        write(project / "messages" / f"d{i}.md", "---\ntitle: T\nkind: avviso\n---\nx\n")
    result = run_cli(["preview", "messages"], cwd=project)
    assert result.returncode == 2, result.stderr
    assert "one draft file" in result.stderr and "internal error" not in result.stderr


def test_the_installed_command_flushes_everything_before_its_fast_exit(tmp_path: Path) -> None:
    """`main` ends with os._exit (no interpreter teardown): no byte of a long report may be lost,
    and the exit codes stay those of SPEC §3.1."""
    write(tmp_path / "comunicast.yaml", "organization:\n  name: Comune di Prova\n"
          "channel:\n  invite_url: https://whatsapp.com/channel/0029VaProvaProvaProva000\n"
          "timezone: Europe/Rome\nsenders:\n  archivio:\n    adapter: console\n")
    for i in range(150):
        write(tmp_path / "messages" / f"avviso-{i:03d}.md",
              f"---\ntitle: Avviso numero {i}\nkind: notizia\n---\n"
              "Ai sensi del regolamento, il servizio resta chiuso lunedì.\n")
    done = run_cli(["check", "--format", "json"], tmp_path)
    report = json.loads(done.stdout)  # complete: a truncated JSON would not parse
    assert done.returncode == 0 and report["summary"]["files"] == 150
    assert len(report["files"]) == 150
    broken = run_cli(["check", "--format", "json", "nessuna-cartella"], tmp_path)
    assert broken.returncode == 3 and "nessuna-cartella" in broken.stderr


def test_main_called_from_python_raises_systemexit_instead_of_ending_the_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from comunicast.cli.app import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    with pytest.raises(SystemExit) as failed:
        main(["check", "nessuna-cartella"])  # no comunicast.yaml here: a configuration error
    assert failed.value.code == 3
