"""`comunicast resolve DRAFT --sender NAME --as sent|failed`: settle an unknown outcome."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from comunicast.i18n import _


class Settled(str, Enum):
    sent = "sent"
    failed = "failed"


def register(app: typer.Typer) -> None:
    """Add the `resolve` command."""

    @app.command(
        help=_(
            "Settle a publication whose outcome is unknown, after looking at the channel: "
            "--as sent if the message is there (it will not be sent again), --as failed if it "
            "is not (the next publish sends it)."
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
                    rows = ledger.publications(draft_id=draft_id, sender=sender)
                    if not rows:
                        raise UsageError(
                            _("the ledger has no publication of '{draft}' to '{sender}'").format(
                                draft=draft_id, sender=sender),
                            hint=_("see `comunicast log --draft {draft}`").format(draft=draft_id),
                        )
                    raise UsageError(
                        _("nothing to resolve: {draft} → {sender} is {state}").format(
                            draft=draft_id, sender=sender, state=state_word(rows[0].state)),
                    )
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
