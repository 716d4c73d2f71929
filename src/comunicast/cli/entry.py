"""The `comunicast` command: what must happen before typer and the app are imported.

`comunicast --version` alone is answered here (scripts and package managers ask it often).

Only `check --online` on a project with no ledger yet does anything here: every link will be
asked, and importing asyncio and aiohttp takes longer than the parent's whole way to its first
request (Python, typer, pydantic, the configuration, the drafts). A child forked now, from an
interpreter that has imported almost nothing, imports them on the other core meanwhile
(`comunicast.linkcheck_child`); the command takes it over, or lets it go if it finds a ledger
after all.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    argv = sys.argv[1:]
    if argv == ["--version"]:  # what the typer option prints, without importing typer
        from comunicast.cli.argv import version_line

        sys.stdout.write(version_line())
        return
    if _wants_early_network(argv):
        from comunicast import linkcheck_child

        if linkcheck_child.can_fork():
            linkcheck_child.start_early()
    from comunicast.cli.app import main as run

    run()


def _wants_early_network(argv: list[str]) -> bool:
    from comunicast.cli.argv import command_index, config_file

    index = command_index(argv)
    if index is None or argv[index] != "check":
        return False
    rest = argv[index + 1:]
    if "--online" not in rest or "--help" in rest or "-h" in rest:
        return False
    if os.environ.get("COMUNICAST_STATE_URL"):
        return False  # a shared ledger: the command decides once it has read the config
    path = config_file(argv)
    if path is None:
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            if any(line.startswith("state:") for line in file):
                return False  # a `state:` section: the command decides, as above
    except OSError:
        return False
    from comunicast.state import SQLITE_LEDGER, state_dir_for

    return not (state_dir_for(path.parent) / SQLITE_LEDGER).exists()
