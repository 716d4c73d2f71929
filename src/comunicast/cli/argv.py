"""What the command line asks for, read before typer is imported.

The entry point (`comunicast.cli.entry`) and the app use these to decide, in a few
microseconds, which command runs and where its comunicast.yaml is: the language of SPEC §7
is chosen before anything is printed, only the invoked command is built, and `check --online`
starts its network child before the heavy imports.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

#: Command modules, in the order `--help` lists them; each exposes `register(app)`.
COMMANDS: tuple[str, ...] = (
    "init",
    "new",
    "check",
    "preview",
    "schema",
    "qr",
    "publish",
    "approve",
    "approvals",
    "log",
    "resolve",
    "withdraw",
    "ledger",
    "senders",
    "site",
)


def version_line() -> str:
    """What `comunicast --version` prints."""
    from comunicast import __version__

    return f"comunicast {__version__}\n"


def config_argument(argv: Sequence[str]) -> str | None:
    """The value of the global `--config` in `argv` (it comes before the command)."""
    for index, arg in enumerate(argv):
        if arg == "--config" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--config="):
            return arg.removeprefix("--config=")
        if not arg.startswith("-"):
            return None  # the command: later arguments are its own
    return None


def command_index(argv: Sequence[str]) -> int | None:
    """Where the command is in `argv` (after the global options), if it is one of ours.

    None for `--help`, `--version`, no command or an unknown one: those get the whole tree
    (the root help lists every command; a typo is told which commands exist).
    """
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--config":
            index += 2
            continue
        if arg.startswith("--config=") or arg == "--debug":
            index += 1
            continue
        if arg.startswith("-"):
            return None  # --help, --version, or an option typer will refuse
        return index if arg in COMMANDS else None
    return None


def invoked_command(argv: Sequence[str]) -> str | None:
    """The command `argv` runs, if it is one of ours (see `command_index`)."""
    index = command_index(argv)
    return None if index is None else argv[index]


def config_file(argv: Sequence[str]) -> Path | None:
    """The comunicast.yaml this run will read, found the way `config_path` does (--config,
    COMUNICAST_CONFIG, walking up from the current folder); None when there is none."""
    explicit = config_argument(argv) or os.environ.get("COMUNICAST_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        return path / "comunicast.yaml" if path.is_dir() else path
    try:
        here = Path.cwd().resolve()
    except OSError:
        return None
    for folder in (here, *here.parents):
        if (folder / "comunicast.yaml").is_file():
            return folder / "comunicast.yaml"
    return None
