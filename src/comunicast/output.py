"""The only module that writes to the terminal: rich on a terminal, plain when piped.

Data goes to stdout, diagnostics to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

from comunicast.i18n import N_, _

if TYPE_CHECKING:
    from rich.console import Console


def is_terminal(stream: Any = None) -> bool:
    """True when `stream` (default stdout) is an interactive terminal."""
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _console(stderr: bool) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = is_terminal(stream)
    return Console(
        file=stream,
        stderr=stderr,
        force_terminal=tty,
        no_color=not tty or "NO_COLOR" in os.environ,
        highlight=False,
        soft_wrap=not tty,
        emoji=False,
        width=None if tty else 100_000,
    )


@cache
def _cached(stderr: bool, stream_id: int) -> Console:
    return _console(stderr)


def stdout_console() -> Console:
    """The console for data (stdout)."""
    return _cached(False, id(sys.stdout))


def stderr_console() -> Console:
    """The console for diagnostics (stderr)."""
    return _cached(True, id(sys.stderr))


def echo(text: str = "") -> None:
    """Write plain text (no markup) to stdout, exactly as given."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def warn(text: str) -> None:
    """Write a plain diagnostic line to stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def print_json(obj: Any) -> None:
    """Write `obj` as JSON to stdout (UTF-8, not ASCII-escaped)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


#: The states of publications (JSON values, never translated) and their words in text output.
_STATE_WORDS = {
    "sent": N_("sent"),
    "skipped": N_("skipped"),
    "in-progress": N_("in-progress"),
    "dry-run": N_("dry-run"),
    "refused": N_("refused"),
    "failed": N_("failed"),
    "unknown": N_("unknown"),
    "sending": N_("sending"),
    "to-paste": N_("to-paste"),
    "edited": N_("edited"),
    "withdrawn": N_("withdrawn"),
    # The outcome of an edit or withdrawal settled by `resolve` (SPEC §10).
    "done": N_("done"),
    "not-attempted": N_("not-attempted"),
}


def state_word(state: str) -> str:
    """The word for a publication's `state` in text output (JSON keeps `state` as is)."""
    msgid = _STATE_WORDS.get(state)
    return _(msgid) if msgid else state


def confirm(question: str) -> bool:
    """Ask `question` on stderr and read the answer: yes in the current language or in English.

    Not typer.confirm: its `[y/N]` and "Error: invalid input" are English, and an Italian
    office answers `s` or `sì`. Anything else, or no answer, is no.
    """
    sys.stderr.write(question + " " + _("[y/N]") + ": ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline().strip().lower()
    except (OSError, ValueError, KeyboardInterrupt):
        answer = ""
    yes = {"y", "yes", *(w.strip().lower() for w in _("y|yes").split("|"))}
    return answer in yes
