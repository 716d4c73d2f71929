"""`comunicast resolve DRAFT --sender NAME --as sent|failed`: settle an unknown outcome."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.ledger import Ledger


class Settled(str, Enum):
    sent = "sent"
    failed = "failed"


def register(app: typer.Typer) -> None:
    """Add the `resolve` command."""

    @app.command(
        help=_(
            "Settle a publication whose outcome is unknown, after looking at the channel: "
            "--as sent if the message is there (it will not be sent again), --as failed if it "
            "is not (the next publish sends it). For an outbox sender: --as sent records that "
            "a person pasted it into the channel."
        )
    )
    def resolve(
        draft: Annotated[str, typer.Argument(help=_("A draft id, or a draft's path."))],
        sender: Annotated[str, typer.Option("--sender", help=_("The sender's name."))],
        as_: Annotated[
            Settled, typer.Option("--as", help=_("What happened: sent or failed."))
        ],
    ) -> None:
        from comunicast.cli.app import get_config
        from comunicast.cli.log import draft_id_of
        from comunicast.errors import ComunicastError, UsageError
        from comunicast.ledger import Ledger
        from comunicast.output import echo, state_word

        config = get_config()
        draft_id = draft_id_of(config, draft)
        existing = Ledger.open_existing(config.ledger_path)
        if existing is None:
            raise UsageError(_("nothing has been published from this project yet"))
        existing.close()
        with Ledger.open(config.ledger_path) as ledger:
            lock = ledger.publication_lock(draft_id, sender)
            if not lock.acquire():
                raise ComunicastError(
                    _("{draft} → {sender} is being sent by another run right now").format(
                        draft=draft_id, sender=sender),
                    hint=_("wait for it to finish, then look at `comunicast log`"),
                )
            try:
                # Holding the lock: any `sending` row belongs to a run that died.
                unsettled = ledger.unsettled(draft_id, sender)
                # SPEC §10: edits and withdrawals in doubt are settled the same way.
                actions = ledger.unsettled_actions(draft_id, sender)
                if not unsettled and not actions:
                    # Nothing in doubt: an outbox publication may be marked pasted (the desk).
                    _settle_paste(config, ledger, draft_id, sender, as_.value)
                    return
                for pub in unsettled:
                    done = ledger.resolve(pub.id, as_.value, note=_("settled by hand"))
                    echo(_("{draft} → {sender} (revision {rev}): {state}").format(
                        draft=draft_id, sender=sender, rev=done.revision[:15],
                        state=state_word(done.state)))
                for action in actions:
                    settled = ledger.resolve_action(
                        action.id, "done" if as_ is Settled.sent else "failed",
                        note=_("settled by hand"))
                    echo(_("{draft} → {sender}: {action} (revision {rev}): {state}").format(
                        draft=draft_id, sender=sender, action=settled.action,
                        rev=settled.revision[:15], state=state_word(settled.state)))
            finally:
                lock.release()


def _settle_paste(config: Config, ledger: Ledger, draft_id: str, sender: str,
                  as_: str) -> None:
    """Nothing unknown: record that a person pasted an outbox publication (or will not)."""
    from datetime import UTC, datetime

    from comunicast.errors import UsageError
    from comunicast.output import echo, state_word

    rows = ledger.publications(draft_id=draft_id, sender=sender)
    if not rows:
        raise UsageError(
            _("the ledger has no publication of '{draft}' to '{sender}'").format(
                draft=draft_id, sender=sender),
            hint=_("see `comunicast log --draft {draft}`").format(draft=draft_id),
        )
    setting = config.senders.get(sender)
    sent = [r for r in rows if r.state == "sent"]
    if setting is None or setting.adapter != "outbox" or not sent:
        raise UsageError(
            _("nothing to resolve: {draft} → {sender} is {state}").format(
                draft=draft_id, sender=sender, state=state_word(rows[0].state)),
        )
    latest = max(sent, key=lambda r: (r.sent_at or r.claimed_at, r.id))
    if as_ == "failed":
        if not latest.to_paste:
            raise UsageError(
                _("{draft} → {sender} was already marked pasted; it cannot be undone").format(
                    draft=draft_id, sender=sender) if latest.pasted_at else
                _("nothing to resolve: {draft} → {sender} is {state}").format(
                    draft=draft_id, sender=sender, state=state_word(latest.state)),
            )
        ledger.unpaste(latest.id, note=_("not pasted, settled by hand"))
        echo(_("{draft} → {sender}: not pasted; the next publish writes it again").format(
            draft=draft_id, sender=sender))
        return
    if latest.pasted_at is not None:
        echo(_("{draft} → {sender} was already marked pasted").format(
            draft=draft_id, sender=sender))
        return
    ledger.mark_pasted(latest.id, note=_("pasted by hand"))
    _mark_desk(config, sender, draft_id, datetime.now(UTC))
    echo(_("{draft} → {sender}: marked pasted").format(draft=draft_id, sender=sender))


def _mark_desk(config: Config, sender: str, draft_id: str, at: datetime) -> None:
    """Show it on the outbox's desk too (the JSON file gains `pasted_at`)."""
    from comunicast.errors import ConfigError
    from comunicast.senders.outbox import OutboxSender
    from comunicast.senders.registry import create_sender

    try:
        outbox = create_sender(config, sender)
    except ConfigError:
        return
    if isinstance(outbox, OutboxSender):
        try:
            outbox.mark_pasted(draft_id, at)
        except OSError:
            pass
