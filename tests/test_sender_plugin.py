"""A third-party sender package (examples/comunicast-sender-example) is found, listed and used.

The package is "installed" the way pip lays it out — the module plus a `.dist-info` folder
whose entry_points.txt comes from the example's own pyproject.toml — in tmp_path, put on
PYTHONPATH for the `comunicast` subprocess. The test venv is never modified.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG, run_cli, write

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "comunicast-sender-example"
GROUP = "comunicast.senders"


def install(site: Path, project: Path) -> dict[str, str]:
    """Lay out the example package in `site` as pip would; returns its entry points."""
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    points: dict[str, str] = meta["entry-points"][GROUP]
    for package in (project / "src").iterdir():
        shutil.copytree(package, site / package.name)
    dist = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n",
        encoding="utf-8",
    )
    lines = [f"[{GROUP}]"] + [f"{name} = {value}" for name, value in points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return points


def broken_plugin(site: Path) -> None:
    """A plugin whose entry point names a module that does not exist."""
    dist = site / "comunicast_broken_sender-0.0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: comunicast-broken-sender\nVersion: 0.0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        f"[{GROUP}]\nbroken = comunicast_no_such_module:Sender\n", encoding="utf-8"
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    assert install(site, EXAMPLE) == {"jsonl": "comunicast_sender_example:JsonLinesSender"}
    broken_plugin(site)
    return site


@pytest.fixture
def feed_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    config = MINIMAL_CONFIG.replace(
        "default_senders: [console]",
        "  sito:\n    adapter: jsonl\n    path: public/feed.jsonl\ndefault_senders: [sito]",
    )
    write(root / "comunicast.yaml", config)
    write(
        root / "messages" / "2026-12-01-ponte.md",
        """
        ---
        title: Ponte sul Po chiuso dal 2 al 5 dicembre
        kind: avviso
        ---
        Il ponte sul Po resta chiuso dal 2 al 5 dicembre per lavori.

        Percorsi alternativi: https://www.comune.cremona.it/viabilita
        """,
    )
    return root


def test_senders_lists_the_plugin_and_a_broken_one(site: Path, feed_project: Path) -> None:
    result = run_cli(["senders", "--format", "json"], feed_project, env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    adapters = {a["name"]: a for a in report["adapters"]}
    jsonl = adapters["jsonl"]
    assert jsonl["ok"] and not jsonl["builtin"]
    assert jsonl["distribution"] == "comunicast-sender-example" and jsonl["target"] == "plain"
    assert (
        not adapters["broken"]["ok"] and "comunicast_no_such_module" in adapters["broken"]["error"]
    )
    assert {"console", "outbox", "webhook", "waha", "telegram"} <= set(adapters)
    [sito] = [c for c in report["configured"] if c["name"] == "sito"]
    assert sito["ok"] and sito["adapter"] == "jsonl"
    text = run_cli(["senders"], feed_project, env={"PYTHONPATH": str(site)})
    assert text.returncode == 0 and "comunicast-sender-example" in text.stdout


def test_publish_sends_through_the_plugin_exactly_once(site: Path, feed_project: Path) -> None:
    env = {"PYTHONPATH": str(site)}
    args = ["publish", "messages/2026-12-01-ponte.md", "--yes", "--format", "json"]
    first = run_cli(args, feed_project, env=env)
    assert first.returncode == 0, first.stderr
    [publication] = json.loads(first.stdout)["publications"]
    assert (publication["sender"], publication["state"]) == ("sito", "sent")
    feed = feed_project / "public" / "feed.jsonl"
    [line] = feed.read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    assert entry["draft_id"] == "2026-12-01-ponte" and entry["key"] == publication["remote_id"]
    assert "Il ponte sul Po resta chiuso" in entry["text"] and "*" not in entry["text"]
    second = run_cli(args, feed_project, env=env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["publications"][0]["state"] == "skipped"
    assert len(feed.read_text(encoding="utf-8").splitlines()) == 1


def test_without_the_package_the_adapter_is_unknown(feed_project: Path) -> None:
    result = run_cli(["publish", "messages/2026-12-01-ponte.md", "--yes"], feed_project)
    assert result.returncode == 3
    assert "unknown adapter 'jsonl'" in result.stdout + result.stderr


def test_a_plugin_that_declares_no_corrections_cannot_edit_or_withdraw(
    site: Path, feed_project: Path
) -> None:
    env = {"PYTHONPATH": str(site)}
    path = "messages/2026-12-01-ponte.md"
    first = run_cli(["publish", path, "--yes"], feed_project, env=env)
    assert first.returncode == 0, first.stderr
    draft = feed_project / path
    draft.write_text(draft.read_text("utf-8").replace("dal 2 al 5", "dal 3 al 6"), "utf-8")
    edit = run_cli(["publish", path, "--edit", "--format", "json"], feed_project, env=env)
    assert edit.returncode == 1, edit.stderr
    [refused] = json.loads(edit.stdout)["publications"]
    assert refused["state"] == "refused" and "cannot edit" in refused["error"]
    assert "--republish" in refused["error"]
    withdraw = run_cli(["withdraw", "2026-12-01-ponte", "--reason", "Errore"], feed_project,
                       env=env)
    assert withdraw.returncode == 1 and "cannot delete" in withdraw.stdout
    feed = feed_project / "public" / "feed.jsonl"
    assert len(feed.read_text(encoding="utf-8").splitlines()) == 1
    again = run_cli(["publish", path, "--republish"], feed_project, env=env)
    assert again.returncode == 0, again.stderr
    assert len(feed.read_text(encoding="utf-8").splitlines()) == 2
