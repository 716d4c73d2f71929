"""`comunicast approve DRAFT... [--as NAME] [--key PATH]`: approve drafts' current content (§8)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from comunicast.i18n import _


def register(app: typer.Typer) -> None:
    """Add the `approve` command."""

    @app.command(
        help=_(
            "Approve each DRAFT as it is now (its content revision), writing one file per "
            "approval in approvals/. An approver with a key in comunicast.yaml signs with it "
            "(ssh-keygen). The author of a draft may not approve it."
        )
    )
    def approve(
        drafts: Annotated[
            list[Path],
            typer.Argument(help=_("Draft files, folders or draft ids."), show_default=False),
        ],
        as_: Annotated[
            str | None,
            typer.Option("--as", metavar="NAME",
                         help=_("Who approves, as approval.approvers names them (default: "
                                "git config user.name).")),
        ] = None,
        key: Annotated[
            Path | None,
            typer.Option("--key", metavar="PATH",
                         help=_("Private SSH key to sign with (default: the ~/.ssh/id_* whose "
                                ".pub is the approver's key).")),
        ] = None,
    ) -> None:
        from comunicast.approvals import approve as approve_drafts
        from comunicast.approvals import approver_named, shown
        from comunicast.cli.app import get_config
        from comunicast.cli.publish import draft_paths
        from comunicast.clock import now
        from comunicast.drafts import load_drafts
        from comunicast.output import echo, warn

        config = get_config()
        loaded = load_drafts(draft_paths(config, drafts), config.tz)
        if loaded.errors:
            for exc in loaded.errors:
                for line in str(exc).splitlines():
                    warn(_("error: {message}").format(message=line))
            warn(_("nothing approved: fix the drafts first"))
            raise typer.Exit(1)
        approver = approver_named(config, as_, Path.cwd())
        written = approve_drafts(config, loaded.drafts, approver,
                                 key=key.expanduser() if key else None, now=now(config.tz))
        for done in written:
            how = _("signed") if done.signed else _("not signed")
            echo(_("approved {draft} (content {rev}) as {name}, {how}: {file}").format(
                draft=done.draft_id, rev=done.revision[3:15], name=done.approver, how=how,
                file=shown(done.path)))
            if not done.required:
                warn(_("note: {draft} is a kind that needs no approval (approval.required)")
                     .format(draft=done.draft_id))
        if written:
            warn(_("hint: commit the approvals/ files with the drafts, so they reach the "
                   "machine that publishes"))
