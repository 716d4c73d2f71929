"""`comunicast senders`: configured sender instances and installed adapters (plugins included)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import typer

from comunicast.cli.options import FormatOption, OutputFormat
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config



def register(app: typer.Typer) -> None:
    """Add the `senders` command."""

    @app.command(
        help=_(
            "List the senders configured in comunicast.yaml (adapter, target, limits, whether "
            "their options and secrets resolve) and the installed adapters, plugins included."
        )
    )
    def senders(
        format: FormatOption = OutputFormat.text,
    ) -> None:
        from comunicast.cli.app import get_config

        config = get_config()
        report = senders_report(config)
        if format is OutputFormat.json:
            from comunicast.output import print_json

            print_json(report)
            return
        _print_report(report)


def senders_report(config: Config) -> dict[str, Any]:
    """Configured instances and installed adapters; nothing here raises for a broken plugin."""
    from comunicast.errors import ConfigError
    from comunicast.senders.registry import installed_adapters, mask_configured, sender_instance

    defaults = set(config.sender_names)
    configured = []
    for name, setting in config.senders.items():
        entry: dict[str, Any] = {
            "name": name, "adapter": setting.adapter, "default": name in defaults,
            "target": None, "limits": None, "min_interval": None, "ok": False, "error": None,
        }
        try:
            inst = sender_instance(config, name)
        except ConfigError as exc:
            # The message may quote option values; values read from ${VAR} never reach it, but
            # mask whatever resolves anyway.
            entry["error"] = mask_configured(" ".join(str(exc).split()), config)
        except Exception as exc:  # noqa: BLE001 - a broken plugin's options model
            entry["error"] = mask_configured(f"{type(exc).__name__}: {exc}", config)
        else:
            entry.update(
                target=inst.limits.target, limits=asdict(inst.limits),
                min_interval=inst.min_interval, ok=True,
            )
        configured.append(entry)
    adapters = []
    for name, ep in sorted(installed_adapters().items()):
        adapters.append({
            "name": name,
            "distribution": ep.distribution,
            "builtin": ep.distribution == "comunicast",
            "entry_point": ep.value,
            "target": ep.adapter.limits.target if ep.adapter is not None else None,
            "ok": ep.error is None,
            "error": ep.error,
        })
    return {"configured": configured, "adapters": adapters}


def _print_report(report: dict[str, Any]) -> None:
    from comunicast.output import echo, is_terminal, stdout_console

    configured = [
        [c["name"] + (" *" if c["default"] else ""), c["adapter"], c["target"] or "-",
         _("ok") if c["ok"] else _("error: {e}").format(e=c["error"])]
        for c in report["configured"]
    ]
    adapters = [
        [a["name"], a["distribution"] or "-",
         _("built-in") if a["builtin"] else _("plugin"),
         _("ok") if a["ok"] else _("broken: {e}").format(e=a["error"])]
        for a in report["adapters"]
    ]
    heads1 = [_("sender"), _("adapter"), _("target"), _("status")]
    heads2 = [_("adapter"), _("package"), _("kind"), _("status")]
    if is_terminal():
        from rich.table import Table
        from rich.text import Text

        console = stdout_console()
        for title, heads, rows in ((_("Configured senders (* = default)"), heads1, configured),
                                   (_("Installed adapters"), heads2, adapters)):
            table = Table(title=title, title_justify="left", box=None, pad_edge=False)
            for h in heads:
                table.add_column(h, overflow="fold")
            for row in rows:
                table.add_row(*(Text(cell) for cell in row))
            console.print(table)
            console.print()
        return
    echo(_("Configured senders (* = default)"))
    for row in configured:
        echo("  " + "\t".join(row))
    echo()
    echo(_("Installed adapters"))
    for row in adapters:
        echo("  " + "\t".join(row))
