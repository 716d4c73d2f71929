"""`comunicast init [DIR]`: a new project with its configuration and one example per kind."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from comunicast.i18n import _


def register(app: typer.Typer) -> None:
    """Add the `init` command."""

    @app.command(
        help=_(
            "Create comunicast.yaml, messages/ with one example per kind, and a .gitignore for "
            ".comunicast/ in DIR (default: the current folder). Never overwrites without --force."
        )
    )
    def init(
        directory: Annotated[
            Path | None, typer.Argument(help=_("Project folder (created if missing)."))
        ] = None,
        name: Annotated[
            str, typer.Option("--name", help=_("Name of the organization."))
        ] = "Comune di Esempio",
        website: Annotated[
            str,
            typer.Option("--website", help=_("Official website (https://…).")),
        ] = "https://www.comune.esempio.it",
        force: Annotated[
            bool, typer.Option("--force", help=_("Overwrite files that already exist."))
        ] = False,
    ) -> None:
        from datetime import date

        from comunicast.output import echo, warn
        from comunicast.project import init_project

        target = directory or Path.cwd()
        written = init_project(target, name=name, website=website, today=date.today(), force=force)
        for path in written:
            echo(str(path))
        warn(
            _(
                "Created a comunicast project in {dir}. Next: edit comunicast.yaml, then run "
                "`comunicast check` and `comunicast preview messages/<file>`."
            ).format(dir=target)
        )
