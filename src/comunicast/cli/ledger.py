"""`comunicast ledger copy --to URL`: copy this project's ledger into another (SPEC §11)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from comunicast.cli.options import FormatOption, OutputFormat
from comunicast.i18n import _


def register(app: typer.Typer) -> None:
    """Add the `ledger` command group."""
    group = typer.Typer(
        name="ledger",
        help=_("Work on the ledger itself: copy it into PostgreSQL, or back into a SQLite file."),
        no_args_is_help=True,
    )

    @group.command(
        name="copy",
        help=_(
            "Copy every publication, event, approval, archived text and image and the caches "
            "of this project's ledger into another ledger: a PostgreSQL URL "
            "(postgresql://user@host:5432/db; the password as ${VAR} or in ~/.pgpass) or a "
            "SQLite file. Run twice, it copies nothing twice; it refuses a target that holds "
            "this project with other rows."
        ),
    )
    def copy(
        to: Annotated[str, typer.Option(
            "--to", metavar="URL", help=_("The target: a postgresql:// URL or a SQLite file."))],
        project: Annotated[str | None, typer.Option(
            "--project", help=_("The project's name in the target database (default: "
                                "state.project, or a slug of organization.name)."))] = None,
        format: FormatOption = OutputFormat.text,
    ) -> None:
        from comunicast.cli.app import get_config
        from comunicast.errors import UsageError
        from comunicast.ledger import Ledger
        from comunicast.ledger_copy import copy_ledger
        from comunicast.output import echo
        from comunicast.state import (
            LedgerLocation,
            PostgresLocation,
            check_project,
            is_postgres_url,
        )

        config = get_config()
        source = config.ledger_path
        target: LedgerLocation
        if is_postgres_url(to):
            target = PostgresLocation(to, check_project(project or config.project))
        else:
            target = Path(to).expanduser().resolve()
            if target.is_dir():
                target = target / "ledger.sqlite3"
        if source == target:
            raise UsageError(_("the target is this project's own ledger"))
        existing = Ledger.open_existing(source)
        if existing is None:
            raise UsageError(_("nothing has been published from this project yet"))
        existing.close()
        with Ledger.open(source) as from_, Ledger.open(target) as into:
            report = copy_ledger(from_, into)
        if format is OutputFormat.json:
            from comunicast.output import print_json

            print_json({"version": 1, "to": str(target),
                        "tables": [t.to_json() for t in report]})
            return
        for t in report:
            echo(_("{table}: {copied} copied, {already} already there").format(
                table=t.table, copied=t.copied, already=t.already))
        echo(_("copied into {target}").format(target=target))

    app.add_typer(group)
