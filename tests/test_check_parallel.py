"""Large runs are checked by forked workers: same findings, same order, and robust to failures."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import yaml
from conftest import run_cli

from comunicast.rules.parallel import map_chunks

REPO = Path(__file__).resolve().parents[1]


def test_map_chunks_keeps_order() -> None:
    items = list(range(500))
    assert map_chunks(lambda chunk: [i * 2 for i in chunk], items) == [i * 2 for i in items]


def test_map_chunks_redoes_a_chunk_whose_worker_failed() -> None:
    parent = os.getpid()

    def work(chunk: list[int]) -> list[int]:
        if os.getpid() != parent:
            raise RuntimeError("worker crashed")
        return [i + 1 for i in chunk]

    os.environ["COMUNICAST_WORKERS"] = "3"
    try:
        assert map_chunks(work, list(range(300))) == list(range(1, 301))
    finally:
        del os.environ["COMUNICAST_WORKERS"]


def test_parallel_and_serial_runs_report_the_same(project: Path) -> None:
    for i in range(90):
        extra = " http://www.comune.cremona.it/x" if i % 3 == 0 else ""
        phone = " Chiamate il 347 123 4567." if i % 7 == 0 else ""
        (project / "messages" / f"d{i:03d}.md").write_text(
            f"---\ntitle: Avviso {i}\nkind: avviso\n---\nAl fine di informare.{extra}{phone}\n",
            encoding="utf-8")
    env = {"COMUNICAST_NOW": "2026-11-28T09:00:00"}
    serial = run_cli(["check", "--format", "json"], project, env={**env, "COMUNICAST_WORKERS": "1"})
    parallel = run_cli(["check", "--format", "json"], project, env={**env, "COMUNICAST_WORKERS": "3"})
    assert serial.returncode == parallel.returncode == 1
    assert json.loads(parallel.stdout) == json.loads(serial.stdout)
    summary = json.loads(serial.stdout)["summary"]
    assert summary == {"files": 90, "errors": 30, "warnings": 13, "infos": 90}


def test_pre_commit_hooks_file() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert by_id["comunicast-check"]["entry"] == "comunicast check"
    assert by_id["comunicast-check-strict"]["entry"] == "comunicast check --strict"
    for hook in hooks:
        assert hook["language"] == "python" and hook["pass_filenames"] is True
        files = re.compile(hook["files"])
        assert files.search("messages/2026-12-01-ponte.md")
        assert files.search("messages/sub/mensa.yaml")
        assert not files.search("messages/ponte.jpg")
        assert not files.search("README.md")
