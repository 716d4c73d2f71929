"""Typed errors, each carrying the exit code of SPEC §3.1.

Domain code raises these; only `cli.app.main` turns them into messages and exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, with its 1-based place when known."""

    message: str
    line: int | None = None
    column: int | None = None
    rule: str = "draft.invalid"
    hint: str | None = None


class ComunicastError(Exception):
    """Base of every error the user can cause or fix; never shown with a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ComunicastError):
    """A bad option or argument."""

    exit_code = 2


class ConfigError(ComunicastError):
    """Bad or missing configuration, missing secret, unknown sender, missing path argument."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return _located(self.path, self.line, self.column, self.message)


class DraftError(ComunicastError):
    """A draft that cannot be read, parsed or validated; carries every problem found in it."""

    exit_code = 1

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        if problems:
            first = problems[0]
        else:
            from comunicast.i18n import _

            first = Problem(_("invalid draft"))
        super().__init__(first.message, hint=first.hint)
        self.path = path
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(_located(self.path, p.line, p.column, p.message) for p in self.problems)


class DeliveryError(ComunicastError):
    """A sender refused or kept failing; nothing is in doubt."""

    exit_code = 4


class OutcomeUnknownError(ComunicastError):
    """At least one publication may or may not have been delivered; a person must resolve it."""

    exit_code = 5


def _located(path: Path | None, line: int | None, column: int | None, message: str) -> str:
    if path is None:
        return message
    where = str(path)
    if line is not None:
        where += f":{line}"
        if column is not None:
            where += f":{column}"
    return f"{where}: {message}"


class ApprovalError(ComunicastError):
    """`approve` refused (the author, an unknown approver, a key that does not sign): exit 1."""

    exit_code = 1
