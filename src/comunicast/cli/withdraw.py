"""`comunicast withdraw DRAFT --reason TEXT`, and the running of `publish DRAFT --edit` (SPEC §10)."""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from comunicast.cli.options import FormatOption, OutputFormat
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.corrections import Corrector, WithdrawTarget
    from comunicast.errors import DraftError
    from comunicast.publish import Outcome, Plan
    from comunicast.stopping import StopFlag


def register(app: typer.Typer) -> None:
    """Add the `withdraw` command."""

    @app.command(
        help=_(
            "Withdraw a published message: delete it from the channel on each sender that can "
            "(WAHA, Telegram, webhook; outbox writes a withdrawal file to carry out by hand), "
            "and record why. A withdrawn draft is published again only with --republish."
        )
    )
    def withdraw(
        draft: Annotated[str, typer.Argument(help=_("A draft id, or a draft's path."))],
        reason: Annotated[
            str,
            typer.Option("--reason", metavar="TEXT",
                         help=_("Why it is withdrawn (kept in the ledger, shown by log).")),
        ],
        to: Annotated[
            str | None,
            typer.Option("--to", metavar="NAME,...",
                         help=_("Only these senders (default: every sender it went to).")),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help=_("Show what would be deleted; do nothing."))
        ] = False,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help=_("Do not ask for confirmation."))
        ] = False,
        format: FormatOption = OutputFormat.text,
    ) -> None:
        from comunicast.cli.app import get_config
        from comunicast.cli.log import draft_id_of
        from comunicast.clock import now as clock_now
        from comunicast.corrections import Corrector, withdraw_targets
        from comunicast.errors import ConfigError, UsageError
        from comunicast.ledger import Ledger
        from comunicast.stopping import StopFlag

        if not reason.strip():
            raise UsageError(_("--reason must say why the message is withdrawn"))
        config = get_config()
        draft_id = draft_id_of(config, draft)
        names = [n.strip() for n in to.split(",") if n.strip()] if to else None
        for name in names or []:
            if name not in config.senders:
                raise ConfigError(
                    _("--to: unknown sender '{name}' (configured: {known})").format(
                        name=name, known=", ".join(config.senders) or "-"),
                    hint=_("senders are named under senders: in comunicast.yaml"),
                )
        existing = Ledger.open_existing(config.ledger_path)
        if existing is None or not existing.publications(draft_id=draft_id):
            if existing is not None:
                existing.close()
            raise UsageError(
                _("the ledger has no publication of '{draft}': nothing to withdraw").format(
                    draft=draft_id),
                hint=_("see `comunicast log` for what was published"),
            )
        if dry_run:
            ledger = existing
        else:
            existing.close()
            ledger = Ledger.open(config.ledger_path)
        try:
            targets = withdraw_targets(config, ledger, draft_id, names)
            stop = StopFlag()  # SIGTERM/SIGHUP: finish the request in flight, then stop
            corrector = Corrector(config, ledger, now=clock_now(config.tz), dry_run=dry_run,
                                  stop=stop)
            if not dry_run and not yes:
                _confirm_withdraw(targets, draft_id)
            with stop.catching():
                if format is OutputFormat.json:
                    with contextlib.redirect_stdout(sys.stderr):
                        outcomes = corrector.withdraw_all(targets, reason.strip())
                else:
                    outcomes = corrector.withdraw_all(targets, reason.strip())
        finally:
            ledger.close()
        _report(outcomes, [], format, dry_run=dry_run, verb=_("would delete"), stop=stop)


def _confirm_withdraw(targets: list[WithdrawTarget], draft_id: str) -> None:
    from comunicast.output import confirm, is_terminal, warn
    from comunicast.publish import LOCAL_ADAPTERS

    if not is_terminal(sys.stdin):
        return
    real = [(t.sender, t.instance.adapter_name) for t in targets
            if not isinstance(t.instance, Exception)
            and t.instance.adapter_name not in LOCAL_ADAPTERS]
    if not real:
        return
    warn(_("About to delete from the channel:"))
    for sender, adapter in real:
        warn(f"  {draft_id} → {sender} ({adapter})")
    if not confirm(_("Delete now?")):
        warn(_("nothing deleted"))
        raise typer.Exit(0)


def run_edits(config: Config, plan: Plan, errors: list[DraftError], *, now: datetime,
              dry_run: bool, yes: bool, format: OutputFormat) -> None:
    """`publish DRAFT... --edit`: edit each planned publication in place, report, exit."""
    from comunicast.corrections import Corrector
    from comunicast.ledger import Ledger
    from comunicast.stopping import StopFlag

    if dry_run or not plan.items:
        ledger = Ledger.open_existing(config.ledger_path)
    else:
        ledger = Ledger.open(config.ledger_path)
    stop = StopFlag()  # SIGTERM/SIGHUP: finish the request in flight, then stop
    corrector = Corrector(config, ledger, now=now, dry_run=dry_run, stop=stop)
    try:
        if not dry_run and not yes and plan.items:
            _confirm_edits(corrector, plan)
        with stop.catching():
            if format is OutputFormat.json:
                with contextlib.redirect_stdout(sys.stderr):
                    outcomes = corrector.edit_all(plan.items)
            else:
                outcomes = corrector.edit_all(plan.items)
    finally:
        if ledger is not None:
            ledger.close()
    _report([*plan.decided, *outcomes], errors, format, dry_run=dry_run,
            verb=_("would edit"), stop=stop)


def _confirm_edits(corrector: Corrector, plan: Plan) -> None:
    from comunicast.output import confirm, is_terminal, warn

    if not is_terminal(sys.stdin):
        return
    corrector.dry_run = True
    try:
        real = [i for i in plan.items if not i.is_local
                and corrector.edit_one(i).state == "dry-run"]
    finally:
        corrector.dry_run = False
    if not real:
        return
    warn(_("About to edit in place:"))
    for item in real:
        warn(f"  {item.message.draft_id} → {item.sender.name} ({item.sender.adapter_name})")
    if not confirm(_("Edit now?")):
        warn(_("nothing sent"))
        raise typer.Exit(0)


def _report(outcomes: list[Outcome], errors: list[DraftError], format: OutputFormat, *,
            dry_run: bool, verb: str, stop: StopFlag) -> None:
    from comunicast.cli.publish import (
        _draft_error_json,
        _print_hints,
        _print_outcomes,
        _report_draft_errors,
        _report_stop,
    )
    from comunicast.publish import exit_code

    code = exit_code(outcomes, extra=[1] if errors else [])
    _report_draft_errors(errors)
    if format is OutputFormat.json:
        from comunicast.output import print_json

        print_json({
            "version": 1,
            "publications": [o.to_json() for o in outcomes],
            "errors": [_draft_error_json(e) for e in errors],
            "exit_code": code,
        })
    elif dry_run:
        _print_dry_run(outcomes, verb)
    else:
        _print_outcomes(outcomes)
    _print_hints(outcomes)
    if stop.requested:
        _report_stop(stop.name, outcomes, due=False)
    if code:
        raise typer.Exit(code)


def _print_dry_run(outcomes: list[Outcome], verb: str) -> None:
    from comunicast.output import echo, state_word

    for o in outcomes:
        if o.state == "dry-run":
            echo(f"── {o.draft_id} → {o.sender} · {verb} {o.remote_id or ''} ──")
            if o.text:
                echo(o.text)
            echo()
        else:
            echo(f"── {o.draft_id} → {o.sender} · {state_word(o.state)}"
                 + (f": {o.error}" if o.error else "")
                 + " ──")
