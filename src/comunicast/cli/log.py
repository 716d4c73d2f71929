"""`comunicast log`: what was published, one row per (draft, sender, revision)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from comunicast.cli.options import FormatOption, OutputFormat
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.ledger import Ledger, Publication

#: Updates stay visible in a WhatsApp Channel for 30 days (SPEC §1).
CHANNEL_RETENTION = timedelta(days=30)



def register(app: typer.Typer) -> None:
    """Add the `log` command."""

    @app.command(
        name="log",
        help=_(
            "What was published: one row per (draft, sender, revision), most recent first, with "
            "its state, remote id, and when it leaves the WhatsApp channel (30 days after sending)."
        ),
    )
    def log_command(
        format: FormatOption = OutputFormat.text,
        limit: Annotated[
            int | None, typer.Option("--limit", "-n", min=1, help=_("Show at most N rows."))
        ] = None,
        draft: Annotated[
            str | None,
            typer.Option("--draft", metavar="ID", help=_("Only this draft (id or path).")),
        ] = None,
    ) -> None:
        from comunicast.cli.app import get_config
        from comunicast.ledger import Ledger

        config = get_config()
        draft_id = draft_id_of(config, draft) if draft else None
        ledger = Ledger.open_existing(config.ledger_path)
        rows: list[dict[str, Any]] = []
        if ledger is not None:
            with ledger:
                pubs = ledger.publications(draft_id=draft_id, limit=limit)
                rows = [row_of(config, p, ledger) for p in pubs]
                approved = ledger.approvals_of(p.id for p in pubs)
                for pub, row in zip(pubs, rows, strict=True):
                    row.update(approval_fields(config, approved.get(pub.id)))
        if format is OutputFormat.json:
            from comunicast.output import print_json

            print_json(rows)
            return
        _print_rows(rows)


def draft_id_of(config: Config, ref: str) -> str:
    """A draft reference (an id, or the path of a draft file) as a draft id."""
    path = Path(ref)
    if path.is_file():
        from comunicast.drafts import load_draft

        return load_draft(path, config.tz).id
    if path.is_dir() or "/" in ref or "\\" in ref:  # ids never hold a separator: a path
        from comunicast.errors import ConfigError

        raise ConfigError(
            _("{path} is not a draft file").format(path=ref) if path.is_dir()
            else _("{path} does not exist").format(path=ref),
            hint=_("name one draft, by its path or its id (`comunicast log` lists the ids)"),
        )
    return ref


def effective_state(config: Config, pub: Publication, ledger: Ledger | None = None) -> str:
    """The recorded state, with `sending` told apart: a live run's, or a dead run's (unknown).

    A publication written to an outbox with `confirm: true` reads `to-paste` until a person
    confirms it (`resolve --as sent`).
    """
    if pub.state == "sent" and pub.to_paste:
        return "to-paste"
    if pub.state != "sending":
        return pub.state
    if ledger is not None:  # the engine's own locks (PostgreSQL: another host's session)
        return "sending" if ledger.lock_is_held(pub.draft_id, pub.sender) else "unknown"
    from comunicast.locks import is_held

    return "sending" if is_held(config.state_dir / "locks", pub.draft_id, pub.sender) else "unknown"


def leaves_channel_at(config: Config, pub: Publication) -> datetime | None:
    """When a sent update disappears from the WhatsApp channel; None for other senders.

    Only senders that post to WhatsApp themselves count: `console` and `outbox` render for
    WhatsApp, but the office pastes their text by hand, at a time the ledger does not know.
    """
    from comunicast.publish import LOCAL_ADAPTERS

    if pub.sent_at is None or pub.state != "sent" or _target(config, pub.sender) != "whatsapp":
        return None
    if config.senders[pub.sender].adapter in LOCAL_ADAPTERS:
        # Pasted by hand: the ledger knows when only if someone said so (`resolve --as sent`).
        return pub.pasted_at + CHANNEL_RETENTION if pub.pasted_at is not None else None
    return pub.sent_at + CHANNEL_RETENTION


def _target(config: Config, sender: str) -> str | None:
    from comunicast.errors import ConfigError
    from comunicast.senders.registry import limits_for

    if sender not in config.senders:
        return None  # a sender removed from comunicast.yaml since: its target is unknown now
    try:
        return limits_for(config, sender).target
    except ConfigError:
        return None


def row_of(config: Config, pub: Publication, ledger: Ledger | None = None) -> dict[str, Any]:
    """SPEC §3.3 `log --format json` entry (timestamps ISO 8601 in the configured zone), with
    §10's edits and withdrawal when `ledger` is given."""

    def iso(value: datetime | None) -> str | None:
        return value.astimezone(config.tz).isoformat(timespec="seconds") if value else None

    row = {
        "draft_id": pub.draft_id,
        "sender": pub.sender,
        "state": effective_state(config, pub, ledger),
        "revision": pub.revision,
        "remote_id": pub.remote_id,
        "attempts": pub.attempts,
        "claimed_at": iso(pub.claimed_at),
        "sent_at": iso(pub.sent_at),
        "leaves_channel_at": iso(leaves_channel_at(config, pub)),
        "error": pub.last_error if pub.state != "sent" else None,
        "resolved_as": pub.resolved_as,
        "pasted_at": iso(pub.pasted_at),
    }
    row.update(corrections_of(config, pub, ledger))
    return row


def corrections_of(config: Config, pub: Publication, ledger: Ledger | None) -> dict[str, Any]:
    """SPEC §10 fields of a log row: done edits, the withdrawal, actions still in doubt."""
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(config.tz).isoformat(timespec="seconds") if value else None

    fields: dict[str, Any] = {"edits": [], "withdrawn_at": None, "withdraw_reason": None,
                              "actions_unknown": []}
    if ledger is None or pub.state != "sent":
        return fields
    from comunicast.corrections import message_state

    state = message_state(ledger, pub)
    fields["edits"] = [{"revision": a.revision, "at": iso(a.done_at)} for a in state.edits]
    if state.withdrawal is not None:
        fields["withdrawn_at"] = iso(state.withdrawal.done_at)
        fields["withdraw_reason"] = state.withdrawal.reason
    live = ledger.lock_is_held(pub.draft_id, pub.sender)
    fields["actions_unknown"] = [
        {"action": a.action, "revision": a.revision, "claimed_at": iso(a.claimed_at)}
        for a in state.unsettled if not (a.state == "sending" and live)
    ]
    return fields


def _corrected(row: dict[str, Any]) -> str:
    """What happened to a sent message since (SPEC §10), for the state column."""
    notes = []
    if row.get("edits"):
        notes.append(_("edited {when}").format(when=_when(row["edits"][-1]["at"])))
    if row.get("withdrawn_at"):
        notes.append(_("withdrawn {when}: {reason}").format(
            when=_when(row["withdrawn_at"]), reason=row.get("withdraw_reason") or ""))
    if row.get("actions_unknown"):
        notes.append(_("an edit or withdrawal is unknown: resolve it"))
    return "".join(f" · {note}" for note in notes)


def _when(iso: str | None, *, with_time: bool = True) -> str:
    """An ISO timestamp of `row_of` as people write it: `1 dicembre 2026, 08:00`."""
    if not iso:
        return ""
    from comunicast.i18n import format_date, format_datetime

    value = datetime.fromisoformat(iso)
    return format_datetime(value) if with_time else format_date(value.date())


def approval_fields(config: Config, found: dict[str, Any] | None) -> dict[str, Any]:
    """SPEC §8 additions to a `log` row: who approved it, or why it went out urgently."""
    found = found or {}
    at = found.get("urgent_at")
    return {
        "approved_by": list(found.get("approved_by") or []),
        "urgent_reason": found.get("urgent_reason"),
        "urgent_by": found.get("urgent_by"),
        "urgent_at": at.astimezone(config.tz).isoformat(timespec="seconds") if at else None,
    }


def _urgent(row: dict[str, Any]) -> str:
    if not row.get("urgent_reason"):
        return ""
    return f"{row['urgent_reason']} ({row['urgent_by']}, {_when(row['urgent_at'])})"


def _print_rows(rows: list[dict[str, Any]]) -> None:
    from comunicast.output import echo, is_terminal, state_word, stdout_console, warn

    if not rows:
        warn(_("nothing published yet"))
        return
    headers = [_("when"), _("draft"), _("sender"), _("state"), _("remote id"), _("attempts"),
               _("leaves channel"), _("approved by"), _("urgent reason")]
    table_rows = [
        [_when(r["sent_at"] or r["claimed_at"]), r["draft_id"], r["sender"],
         state_word(r["state"]) + (" (" + _("pasted") + ")" if r.get("pasted_at")
                                   else " (" + _("resolved") + ")" if r["resolved_as"] else "")
         + _corrected(r),
         r["remote_id"] or "", str(r["attempts"]), _when(r["leaves_channel_at"], with_time=False),
         ", ".join(r.get("approved_by") or []), _urgent(r)]
        for r in rows
    ]
    if is_terminal():
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, show_edge=False)
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in table_rows:
            table.add_row(*(Text(cell) for cell in row))
        stdout_console().print(table)
        return
    for row in table_rows:
        echo("\t".join(cell or "-" for cell in row))
