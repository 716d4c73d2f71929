"""`comunicast preview DRAFT`: the text exactly as it will be sent, with its length per target."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from comunicast.cli.options import FormatOption, OutputFormat
from comunicast.i18n import _


class TargetChoice(str, Enum):
    whatsapp = "whatsapp"
    telegram = "telegram"
    plain = "plain"



def register(app: typer.Typer) -> None:
    """Add the `preview` command."""

    @app.command(
        help=_(
            "Show DRAFT rendered exactly as it will be sent, with its length against each target's "
            "limit. Without --target: the targets of the draft's senders."
        )
    )
    def preview(
        draft: Annotated[Path, typer.Argument(help=_("A draft file (.md, .yaml), or a draft id."))],
        target: Annotated[
            TargetChoice | None, typer.Option("--target", "-t", help=_("Render for one target."))
        ] = None,
        format: FormatOption = OutputFormat.text,
    ) -> None:
        from comunicast.cli.app import get_config
        from comunicast.cli.publish import draft_paths
        from comunicast.compose import target_texts
        from comunicast.drafts import draft_files, load_draft
        from comunicast.errors import UsageError
        from comunicast.i18n import format_number
        from comunicast.output import echo, is_terminal, print_json, stderr_console, warn

        config = get_config()
        (draft,) = draft_paths(config, [draft])  # a path, or a draft id as publish takes
        if draft.is_dir():
            raise UsageError(
                _("{path} is a folder: preview takes one draft file").format(path=draft)
            )
        (file,) = draft_files([draft])
        loaded = load_draft(file, config.tz)
        texts = target_texts(loaded, config, [target.value] if target else None)
        if format is OutputFormat.json:
            print_json(
                {
                    "draft_id": loaded.id,
                    "targets": [
                        {"target": t.target, "text": t.text, "length": t.length, "limit": t.limit}
                        for t in texts
                    ],
                }
            )
            return
        for i, item in enumerate(texts):
            over = item.length > item.limit
            status = _("{length}/{limit} characters").format(
                length=format_number(item.length), limit=format_number(item.limit)
            )
            if over:
                status += " — " + _("over the limit by {n}").format(
                    n=format_number(item.length - item.limit)
                )
            header = f"── {item.target} · {status} ──"
            if len(texts) == 1:
                # One target: stdout carries exactly the text (ready to pipe or paste).
                if is_terminal(sys.stderr):
                    stderr_console().print(
                        header, style="bold red" if over else "bold", markup=False
                    )
                else:
                    warn(header)
                echo(item.text)
            else:
                if i:
                    echo()
                echo(header)
                echo(item.text)
