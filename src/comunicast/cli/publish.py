"""`comunicast publish DRAFT...` and `publish --due`: send each draft to its senders, exactly once."""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from comunicast.cli.options import FormatOption, OutputFormat
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.approvals import UrgentBypass
    from comunicast.config import Config
    from comunicast.drafts import Draft
    from comunicast.errors import DraftError
    from comunicast.ledger import Ledger
    from comunicast.publish import Outcome, Planned, Publisher



def register(app: typer.Typer) -> None:
    """Add the `publish` command."""

    @app.command(
        help=_(
            "Check, render and send each DRAFT to its senders, exactly once. With --due (for "
            "cron): every draft in messages/ whose publish_at has come and which is not yet sent."
        )
    )
    def publish(
        drafts: Annotated[
            list[Path] | None,
            typer.Argument(help=_("Draft files, folders or draft ids."), show_default=False),
        ] = None,
        due: Annotated[
            bool, typer.Option("--due", help=_("Send every draft that is due (for cron)."))
        ] = False,
        to: Annotated[
            str | None,
            typer.Option("--to", metavar="NAME,...", help=_("Send to these senders instead.")),
        ] = None,
        dry_run: Annotated[
            bool,
            typer.Option("--dry-run", help=_("Show what would be sent, where; send nothing.")),
        ] = False,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help=_("Do not ask for confirmation."))
        ] = False,
        republish: Annotated[
            bool,
            typer.Option(
                "--republish", help=_("Send an edited draft again, as a new message.")
            ),
        ] = False,
        urgent: Annotated[
            bool,
            typer.Option("--urgent", help=_(
                "Send an emergenza without approval (needs approval.urgent_bypass and --reason)."
            )),
        ] = False,
        reason: Annotated[
            str | None,
            typer.Option("--reason", metavar="TEXT",
                         help=_("Why --urgent: recorded in the ledger and shown by log.")),
        ] = None,
        edit: Annotated[
            bool,
            typer.Option(
                "--edit",
                help=_("Edit the published message in place with the draft's new text "
                       "(where the sender can), instead of sending it again."),
            ),
        ] = False,
        format: FormatOption = OutputFormat.text,
    ) -> None:
        from comunicast.cli.app import get_config
        from comunicast.clock import now as clock_now
        from comunicast.drafts import load_drafts
        from comunicast.errors import UsageError
        from comunicast.ledger import Ledger
        from comunicast.publish import Publisher, due_drafts, exit_code, plan, sent_and_settled
        from comunicast.stopping import StopFlag

        if due and drafts:
            raise UsageError(_("give either DRAFT arguments or --due, not both"))
        if not due and not drafts:
            raise UsageError(
                _("nothing to publish: name one or more drafts, or pass --due"),
                hint=_("comunicast publish messages/2026-12-01-ponte.md"),
            )
        if due and to:
            raise UsageError(_("--to applies to named drafts, not to --due"))
        bypass = urgent_bypass(urgent, reason, due)
        if edit and (due or republish):
            # cron never edits by itself; --republish sends a new message, --edit changes one.
            raise UsageError(_("--edit applies to named drafts, and not together with "
                               "--republish"))
        config = get_config()
        now = clock_now(config.tz)
        targets = [n.strip() for n in to.split(",") if n.strip()] if to else None

        if due:
            loaded = load_drafts([config.messages_dir], config.tz) \
                if config.messages_dir.is_dir() else None
            selected = due_drafts(loaded.drafts, now) if loaded else []
            errors = loaded.errors if loaded else []
        else:
            loaded = load_drafts(draft_paths(config, drafts or []), config.tz)
            selected, errors = loaded.drafts, loaded.errors
            if bypass is not None:
                only_emergencies(selected)

        if due and selected:
            seen = Ledger.open_existing(config.ledger_path)
            try:
                done = sent_and_settled(seen) if seen is not None else None
                the_plan = plan(config, selected, now=now, done=done)
            finally:
                if seen is not None:
                    seen.close()
        else:
            the_plan = plan(config, selected, now=now, to=targets, urgent=bypass)
        if edit:
            from comunicast.cli.withdraw import run_edits

            try:
                run_edits(config, the_plan, errors, now=now, dry_run=dry_run, yes=yes,
                          format=format)
            finally:
                the_plan.close()
            return
        if dry_run:
            ledger = Ledger.open_existing(config.ledger_path)
        elif the_plan.items:
            ledger = Ledger.open(config.ledger_path)
        else:
            ledger = None
        stop = StopFlag()  # SIGTERM/SIGHUP while sending: finish the request in flight, then stop
        publisher = Publisher(config, ledger, republish=republish, dry_run=dry_run, due=due,
                              stop=stop)
        try:
            try:
                if not dry_run and not yes and the_plan.items:
                    _confirm(publisher, the_plan.items)
                with stop.catching():
                    if format is OutputFormat.json:
                        # Data on stdout is the JSON document: the console sender writes to
                        # stderr.
                        with contextlib.redirect_stdout(sys.stderr):
                            outcomes = publisher.run(the_plan.items)
                    else:
                        outcomes = publisher.run(the_plan.items)
            finally:
                the_plan.close()

            everything = [*the_plan.decided, *outcomes]
            if due:
                # cron stays quiet: already sent and being-sent-elsewhere are not news.
                everything = [o for o in everything if o.state not in ("skipped", "in-progress")]
            code = exit_code(everything, extra=[1] if errors else [])
            shown, shown_errors = everything, errors
            if due and format is OutputFormat.text and not dry_run:
                # cron mails whatever is printed: say what is new (the exit code stays honest).
                # The run's own ledger connection, if it has one: no second connection (a
                # round of authentication and a backend on PostgreSQL) to say it.
                shown, shown_errors = _news_for_cron(config, now, selected, everything, errors,
                                                     ledger)
        finally:
            if ledger is not None:
                ledger.close()
        _report_draft_errors(shown_errors)
        if format is OutputFormat.json:
            from comunicast.output import print_json

            print_json({
                "version": 1,
                "publications": [o.to_json() for o in everything],
                "errors": [_draft_error_json(e) for e in errors],
                "exit_code": code,
            })
        elif dry_run:
            _print_dry_run(everything)
        else:
            _print_outcomes(shown)
        _print_hints(everything)
        if stop.requested:
            _report_stop(stop.name, everything, due=due)
        if code:
            raise typer.Exit(code)


def urgent_bypass(urgent: bool, reason: str | None, due: bool) -> UrgentBypass | None:
    """`--urgent --reason TEXT` as what the ledger records (who and why), or None."""
    from comunicast.errors import UsageError

    if not urgent:
        if reason is not None:
            raise UsageError(_("--reason goes with --urgent"))
        return None
    from comunicast.approvals import UrgentBypass, git_user_name
    if due:
        raise UsageError(_("--urgent applies to named drafts, not to --due"))
    if reason is None or not reason.strip():
        raise UsageError(_("--urgent needs --reason TEXT: say why it cannot wait for approval"),
                         hint=_('comunicast publish messages/allerta.md --urgent --reason '
                                '"esondazione in corso"'))
    import getpass

    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        login = str(os.getuid()) if hasattr(os, "getuid") else "?"
    name = git_user_name(Path.cwd())
    return UrgentBypass(" ".join(reason.split()), f"{name} ({login})" if name else login)


def only_emergencies(drafts: list[Draft]) -> None:
    """`--urgent` is for emergencies only: any other kind is a usage error (exit 2)."""
    from comunicast.drafts import Kind
    from comunicast.errors import UsageError

    others = [d for d in drafts if d.kind is not Kind.EMERGENZA]
    if others:
        raise UsageError(
            _("--urgent is only for an emergenza; {path} is of kind '{kind}'").format(
                path=others[0].relpath, kind=others[0].kind),
            hint=_("publish it without --urgent, once it is approved"),
        )


def draft_paths(config: Config, refs: list[Path]) -> list[Path]:
    """Draft arguments as paths: existing files and folders, else draft ids found in messages/."""
    from comunicast.errors import ConfigError

    paths: list[Path] = []
    by_id: dict[str, Path] | None = None
    for ref in refs:
        if ref.exists():
            paths.append(ref)
            continue
        named = _by_file_name(config, str(ref))
        if named is not None:  # the default id is the file name: no need to read every draft
            paths.append(named)
            continue
        if by_id is None:
            by_id = _ids_in(config)
        if str(ref) in by_id:
            paths.append(by_id[str(ref)])
            continue
        raise ConfigError(
            _("{path} does not exist, and no draft in messages/ has that id").format(path=ref),
            hint=_("check the path; drafts live in messages/"),
        )
    return paths


def _by_file_name(config: Config, ref: str) -> Path | None:
    """messages/<ref>.md (or .yaml, .yml) when that draft's id is `ref`."""
    from comunicast.drafts import DRAFT_SUFFIXES, load_draft
    from comunicast.errors import DraftError

    if "/" in ref or "\\" in ref:
        return None
    for suffix in DRAFT_SUFFIXES:
        candidate = config.messages_dir / f"{ref}{suffix}"
        if candidate.is_file():
            try:
                if load_draft(candidate, config.tz).id == ref:
                    return candidate
            except DraftError:
                return candidate  # its errors are reported when it is loaded for publishing
    return None


def _ids_in(config: Config) -> dict[str, Path]:
    from comunicast.drafts import load_drafts

    if not config.messages_dir.is_dir():
        return {}
    return {d.id: d.path for d in load_drafts([config.messages_dir], config.tz).drafts}


def _confirm(publisher: Publisher, items: list[Planned]) -> None:
    """On an interactive terminal, ask before sending to real senders; never when piped (cron)."""
    from comunicast.output import confirm, is_terminal, warn

    if not is_terminal(sys.stdin):
        return
    real = [i for i in publisher.pending(items) if not i.is_local]
    if not real:
        return
    warn(_("About to publish:"))
    for item in real:
        warn(f"  {item.message.draft_id} → {item.sender.name} ({item.sender.adapter_name})")
    if not confirm(_("Send now?")):
        warn(_("nothing sent"))
        raise typer.Exit(0)


def _news_for_cron(config: Config, now: datetime, drafts: list[Draft], outcomes: list[Outcome],
                   errors: list[DraftError], ledger: Ledger | None = None,
                   ) -> tuple[list[Outcome], list[DraftError]]:
    """The refusals and draft errors this `--due` run should print (README: cron and mail).

    A person at a terminal sees everything; without one (cron), a problem is printed when it is
    new or changed, and a due draft still refused again every `publish.reminder_hours`.
    """
    from comunicast.errors import ComunicastError
    from comunicast.i18n import format_datetime
    from comunicast.ledger import Ledger
    from comunicast.notices import Notice, fingerprint, to_say
    from comunicast.output import is_terminal, warn

    if is_terminal(sys.stderr):
        return outcomes, errors
    notices = [Notice("draft-error", _subject(e.path), fingerprint(e.path, [str(e)]))
               for e in errors]
    reasons: dict[str, list[str]] = {}
    for o in outcomes:
        if o.state == "refused":
            reasons.setdefault(o.draft_id, []).append(f"{o.sender}: {o.error}")
    paths = {d.id: d.path for d in drafts}
    notices += [Notice("refused", draft_id, fingerprint(paths.get(draft_id), lines))
                for draft_id, lines in reasons.items()]
    try:
        if ledger is None and not notices and not config.ledger_path.exists():
            return outcomes, errors
        # The run's own ledger (opened for writing, migrated) when it has one.
        with contextlib.nullcontext(ledger) if ledger is not None \
                else Ledger.open(config.ledger_path) as memory:
            said = to_say(memory, notices, now=now.timestamp(),
                          remind_after=config.publish.reminder_hours * 3600)
    except ComunicastError:  # no memory (say, a read-only state folder): say everything
        return outcomes, errors
    shown = [o for o in outcomes if o.state != "refused" or ("refused", o.draft_id) in said]
    for (_kind, subject), why in said.items():
        if why.why == "reminder":
            since = format_datetime(datetime.fromtimestamp(why.first_at, config.tz))
            warn(_("reminder: draft '{draft}' is due and still refused (reported first on "
                   "{since}); fix it, or move it out of messages/").format(draft=subject,
                                                                          since=since))
    if any(why.why != "reminder" for why in said.values()):
        warn(_("hint: cron runs repeat this only when the draft changes, and recall a due draft "
               "still refused every {hours:g} hours; `comunicast check` lists every problem")
             .format(hours=config.publish.reminder_hours))
    return shown, [e for e in errors if ("draft-error", _subject(e.path)) in said]


def _subject(path: Path) -> str:
    return str(path.resolve())


def _report_draft_errors(errors: list[DraftError]) -> None:
    from comunicast.output import warn

    for exc in errors:
        for line in str(exc).splitlines():
            warn(_("error: {message}").format(message=line))


def _draft_error_json(exc: DraftError) -> dict[str, object]:
    return {
        "path": str(exc.path),
        "problems": [
            {"message": p.message, "line": p.line, "column": p.column, "rule": p.rule}
            for p in exc.problems
        ],
    }


_STYLES = {
    "sent": "green", "skipped": "dim", "in-progress": "yellow", "dry-run": "cyan",
    "not-attempted": "yellow",
    "refused": "red", "failed": "red", "unknown": "bold red",
    "edited": "green", "withdrawn": "green",
}


def _print_outcomes(outcomes: list[Outcome]) -> None:
    from comunicast.output import is_terminal, state_word, stdout_console

    if not outcomes:
        return
    if is_terminal():
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in (_("draft"), _("sender"), _("state"), _("remote id"), _("attempts"),
                       _("note")):
            table.add_column(column, overflow="fold")
        for o in outcomes:
            # Text, not markup: errors quote platforms and may hold "[brackets]".
            table.add_row(Text(o.draft_id), Text(o.sender), Text(state_word(o.state), style=_STYLES.get(o.state, "")),
                          Text(o.remote_id or ""), Text(str(o.attempts or "")), Text(o.error or ""))
        stdout_console().print(table)
        return
    from comunicast.output import echo

    for o in outcomes:
        line = f"{state_word(o.state)}\t{o.draft_id}\t{o.sender}\t{o.remote_id or '-'}\t{o.attempts}"
        echo(line + (f"\t{o.error}" if o.error else ""))


def _print_dry_run(outcomes: list[Outcome]) -> None:
    from comunicast.output import echo, state_word

    for o in outcomes:
        if o.state == "dry-run":
            echo(f"── {o.draft_id} → {o.sender} ({o.target}) · " + _("would send") + " ──")
            echo(o.text or "")
            if o.image:
                echo("[" + _("image: {name}").format(name=o.image) + "]")
            echo()
        else:
            echo(f"── {o.draft_id} → {o.sender} · {state_word(o.state)}" + (f": {o.error}" if o.error else "")
                 + " ──")


def _report_stop(signal_name: str, outcomes: list[Outcome], *, due: bool) -> None:
    """Say on stderr that the run stopped early, and what happens to the rest."""
    from comunicast.i18n import ngettext
    from comunicast.output import warn

    left = sum(1 for o in outcomes if o.state == "not-attempted")
    warn(_("warning: stopped by {signal}: the publication in flight was finished and recorded; "
           "nothing more was sent").format(signal=signal_name))
    if left:
        later = _("the next `publish --due` sends them") if due else \
            _("run the same command again to send them")
        warn(ngettext("{n} publication was not attempted; {later}",
                      "{n} publications were not attempted; {later}", left).format(
            n=left, later=later))


def _print_hints(outcomes: list[Outcome]) -> None:
    from comunicast.output import warn

    if any(o.state == "unknown" for o in outcomes):
        warn(_("hint: the outcome of some publications is unknown; look at the channel, then "
               "settle each with `comunicast resolve DRAFT --sender NAME --as sent|failed`"))
