"""Docs that cannot drift: README's commands, the generated command reference, the example project."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from comunicast.cli.app import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def _sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, flags=re.DOTALL)


def test_readme_starts_with_the_two_commands() -> None:
    blocks = _sh_blocks()
    install_and_run, test_command = blocks[0], blocks[1]
    assert install_and_run.startswith("python3 -m venv .venv && .venv/bin/pip install . &&")
    assert "comunicast publish" in install_and_run
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert test_command in ci.splitlines(), "the README's test command must be exactly .ci/run's"


def test_command_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in COMMANDS:
        assert f"#### `comunicast {name}`" in README


def test_readme_documents_every_exit_code() -> None:
    for code in range(6):
        assert re.search(rf"^\| {code} \|", README, flags=re.MULTILINE)


def test_linked_files_exist() -> None:
    targets = [t for t in re.findall(r"\]\(((?!https?:|#)[^)]+)\)", README) if "/" in t or "." in t]
    assert len(targets) >= 5
    for target in targets:
        assert (ROOT / target).exists(), target
