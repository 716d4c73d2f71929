"""`comunicast approvals [--format json]`: drafts waiting, approved, and stale approvals (§8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from comunicast.cli.options import FormatOption, OutputFormat
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.approvals import ApprovalSet, BadApprovalFile, Verdict

JSON_VERSION = 1


def register(app: typer.Typer) -> None:
    """Add the `approvals` command."""

    @app.command(
        help=_(
            "List the drafts in messages/ and where each stands: waiting for approval, "
            "approved, stale (the content changed after the approval) or not-required. Exit 1 "
            "when a file in approvals/ cannot be read."
        )
    )
    def approvals(format: FormatOption = OutputFormat.text) -> None:
        from comunicast.approvals import verdicts
        from comunicast.cli.app import get_config
        from comunicast.drafts import load_drafts

        config = get_config()
        loaded = load_drafts([config.messages_dir], config.tz) \
            if config.messages_dir.is_dir() else None
        drafts = loaded.drafts if loaded else []
        judged, found = verdicts(config, drafts)
        ids = {d.id for d in drafts}
        orphans = [p for p in found.problems if p.draft_id not in ids]
        if format is OutputFormat.json:
            from comunicast.output import print_json

            print_json({
                "version": JSON_VERSION,
                "drafts": [v.to_json() for v in judged],
                "errors": [{"file": str(p), "line": p.line, "message": p.message}
                           for p in found.problems],
            })
        else:
            _print(judged)
        _report(found, orphans)
        if found.problems:
            raise typer.Exit(1)


_STATUS = {
    "waiting": "yellow", "approved": "green", "stale": "bold red", "not-required": "dim",
}


def _status_word(status: str) -> str:
    return {"waiting": _("waiting"), "approved": _("approved"), "stale": _("stale"),
            "not-required": _("not required")}[status]


def _print(judged: list[Verdict]) -> None:
    from comunicast.output import echo, is_terminal, stdout_console, warn

    if not judged:
        warn(_("no drafts in messages/"))
        return
    rows = []
    for v in judged:
        notes = []
        for j in v.judged:
            if not j.valid:
                notes.append(f"{j.file.path.name}: {j.reason}")
        rows.append([v.draft_id, _status_word(v.status), v.content_revision[3:15],
                     ", ".join(v.approved_by), "; ".join(notes + [str(p) for p in v.problems])])
    if is_terminal():
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, show_edge=False)
        for header in (_("draft"), _("status"), _("content"), _("approved by"), _("note")):
            table.add_column(header, overflow="fold")
        for v, row in zip(judged, rows, strict=True):
            cells = [Text(c) for c in row]
            cells[1].stylize(_STATUS[v.status])
            table.add_row(*cells)
        stdout_console().print(table)
        return
    for row in rows:
        echo("\t".join(cell or "-" for cell in row))


def _report(found: ApprovalSet, orphans: list[BadApprovalFile]) -> None:
    from comunicast.output import warn

    for problem in found.problems:
        warn(_("error: {message}").format(message=problem))
    if orphans:
        warn(_("hint: a file in approvals/ that is not an approval written by comunicast never "
               "counts; remove it (approve the draft again if needed)"))
