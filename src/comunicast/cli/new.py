"""`comunicast new TITLE [--kind K] [--at WHEN]`: a new draft from the kind's template."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from comunicast.i18n import _


def register(app: typer.Typer) -> None:
    """Add the `new` command."""

    @app.command(
        help=_("Create messages/<date>-<slug>.md from the template of its kind and print its path.")
    )
    def new(
        title: Annotated[str, typer.Argument(help=_("Title of the message (one line)."))],
        kind: Annotated[
            str,
            typer.Option(
                "--kind",
                "-k",
                help=_("notizia, servizio, scadenza, evento, emergenza, avviso (or English)."),
            ),
        ] = "notizia",
        at: Annotated[
            str | None,
            typer.Option(
                "--at",
                help=_("When to publish: 2026-12-01 08:00 or 01/12/2026 08:00 (local time)."),
            ),
        ] = None,
    ) -> None:
        from comunicast.cli.app import get_config
        from comunicast.clock import now
        from comunicast.drafts import parse_when
        from comunicast.errors import UsageError
        from comunicast.output import echo
        from comunicast.project import new_draft, parse_kind

        config = get_config()
        chosen = parse_kind(kind)
        when = None
        if at is not None:
            try:
                when = parse_when(at)
            except ValueError as exc:
                raise UsageError("--at: " + str(exc)) from None
            if not hasattr(when, "year"):
                raise UsageError(_("--at: write a date such as 2026-12-01 08:00"))
        today = now(config.tz).date()
        path = new_draft(config.messages_dir, title, kind=chosen, at=when, today=today)
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        echo(str(shown))
