"""`comunicast site [--out DIR]`: build the static archive site from the ledger (SPEC §9)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from comunicast.cli.options import FormatOption, OutputFormat
from comunicast.i18n import _


def register(app: typer.Typer) -> None:
    """Add the `site` command."""

    @app.command(
        help=_(
            "Build the archive website of everything published (from the ledger): index, one "
            "page per message, iscriviti.html, RSS and Atom feeds. Only pages that changed are "
            "rendered; the new site replaces the old one at once."
        )
    )
    def site(
        out: Annotated[
            Path | None,
            typer.Option("--out", "-o", metavar="<path>",
                         help=_("Folder to build into (default: site/ beside comunicast.yaml).")),
        ] = None,
        format: FormatOption = OutputFormat.text,
    ) -> None:
        from comunicast.cli.app import get_config
        from comunicast.clock import now
        from comunicast.output import echo, print_json
        from comunicast.site.build import build_site, site_out

        config = get_config()
        report = build_site(config, site_out(config, out), now=now(config.tz))
        if format is OutputFormat.json:
            print_json({
                "version": 1, "out": str(report.out), "messages": report.messages,
                "files": report.pages, "rendered": report.rendered, "reused": report.reused,
                "changed": report.changed,
            })
            return
        if not report.changed:
            echo(_("{out}: up to date ({n} messages)").format(out=report.out, n=report.messages))
            return
        echo(_("{out}: {n} messages, {rendered} files written, {reused} unchanged").format(
            out=report.out, n=report.messages, rendered=report.rendered, reused=report.reused))
