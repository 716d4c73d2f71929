"""`comunicast check [PATH...]`: every rule of SPEC §4 on the drafts; text, JSON or GitHub output."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Self

import typer

from comunicast.i18n import _, format_number, ngettext

if TYPE_CHECKING:
    from rich.console import Console

    from comunicast.linkcheck_child import NetworkChild
    from comunicast.rules.engine import Finding
    from comunicast.rules.run import Report

#: Show a progress bar when more URLs than this need a request.
PROGRESS_MIN_URLS = 5


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def register(app: typer.Typer) -> None:
    """Add the `check` command."""

    @app.command(
        help=_(
            "Check drafts (default: messages/) against the rules: length, format, links, "
            "readability, privacy, media, schedule. --online also checks that links answer. "
            "Exit 1 when a draft has errors (with --strict: warnings too). COMUNICAST_NOW "
            "(ISO date-time) replaces the current time for the schedule rules."
        )
    )
    def check(
        paths: Annotated[
            list[Path] | None,
            typer.Argument(help=_("Draft files and folders (default: messages/)."), show_default=False),
        ] = None,
        online: Annotated[
            bool, typer.Option("--online", help=_("Also check that every link answers."))
        ] = False,
        format: Annotated[
            CheckFormat, typer.Option("--format", help=_("text, json or github (annotations)."))
        ] = CheckFormat.text,
        strict: Annotated[
            bool, typer.Option("--strict", help=_("Warnings fail the check too (exit 1)."))
        ] = False,
    ) -> None:
        from comunicast.cli.app import get_config
        from comunicast.clock import now
        from comunicast.rules.run import OnlineProgress, run_check

        config = get_config()
        targets = list(paths) if paths else [config.messages_dir]
        if online:
            import gc

            # What is imported by now lives as long as the command: set it apart from the
            # garbage collector, whose full passes over it (30-40 ms each) would otherwise stall
            # a wave of link-check answers.
            gc.freeze()
        network = _network_child(online and not config.ledger_path.exists())
        try:
            with _Progress() as bar:
                report = run_check(
                    targets, config, now=now(config.tz), online=online,
                    progress=OnlineProgress(start=bar.start, advance=bar.advance),
                    network=network,
                )
        finally:
            if network is not None:
                network.close()
        if config.approval.required is not False:
            from comunicast.approvals import add_approval_findings

            add_approval_findings(report, config, strict=strict)
        if format is CheckFormat.json:
            from comunicast.output import print_json

            print_json(report.to_json())
        elif format is CheckFormat.github:
            _github(report)
        else:
            _text(report)
        if report.failed(strict=strict):
            raise typer.Exit(1)


def _network_child(wanted: bool) -> NetworkChild | None:
    """A child importing aiohttp while this process loads the drafts, when `wanted` (no ledger
    yet, so every link will be asked): the one the entry point forked before the heavy imports,
    else one forked now; None where it cannot be forked. An early child not wanted after all
    (a ledger in a place only the configuration names) is let go."""
    from comunicast.linkcheck_child import NetworkChild, can_fork, take_early

    early = take_early()
    if not wanted:
        if early is not None:
            early.close()
        return None
    if early is not None:
        return early
    if not can_fork():
        return None

    try:
        return NetworkChild()
    except OSError:
        return None


# -- progress --------------------------------------------------------------------------------------


class _Progress:
    """A progress bar on stderr, only on a terminal and only for more than a handful of URLs."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def start(self, total: int) -> None:
        import sys

        from comunicast.output import is_terminal, stderr_console

        if total <= PROGRESS_MIN_URLS or not is_terminal(sys.stderr):
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn(_("checking links")), BarColumn(), MofNCompleteColumn(),
                            console=stderr_console(), transient=True)
        self.task = self.bar.add_task("links", total=total)
        self.bar.start()

    def advance(self, done: int, total: int) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=done)


# -- output ----------------------------------------------------------------------------------------

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _severity_word(finding: Finding) -> str:
    return {"error": _("error"), "warning": _("warning"), "info": _("info")}[finding.severity.label]


def summary_line(report: Report) -> str:
    """`3 files checked: 1 error, 2 warnings, 0 infos` (or no problems)."""
    from comunicast.rules.engine import Severity

    files = ngettext("{n} file checked", "{n} files checked", len(report.files)).format(
        n=format_number(len(report.files)))
    errors, warnings, infos = (report.count(s) for s in (Severity.ERROR, Severity.WARNING,
                                                          Severity.INFO))
    if not (errors or warnings or infos):
        return files + ": " + _("no problems found")
    parts = [
        ngettext("{n} error", "{n} errors", errors).format(n=format_number(errors)),
        ngettext("{n} warning", "{n} warnings", warnings).format(n=format_number(warnings)),
        ngettext("{n} info", "{n} infos", infos).format(n=format_number(infos)),
    ]
    return files + ": " + ", ".join(parts)


def _text(report: Report) -> None:
    from comunicast.output import echo, is_terminal

    if is_terminal():
        _rich(report)
        return
    # Piped: one line per finding, `path:line:col: severity: message [rule]`, easy to grep.
    for file in report.files:
        for f in file.findings:
            where = file.shown_path
            if f.line is not None:
                where += f":{f.line}"
                if f.column is not None:
                    where += f":{f.column}"
            line = f"{where}: {_severity_word(f)}: {f.message} [{f.rule}]"
            if f.suggestion:
                line += "\n    " + _("suggestion: {text}").format(text=f.suggestion)
            echo(line)
    echo(summary_line(report))


def _snippet(source: str | None, finding: Finding, width: int) -> tuple[str, int, int] | None:
    """(line text, caret start, caret length) cut to fit `width` around the finding."""
    if source is None or finding.line is None:
        return None
    lines = source.splitlines()
    if not 1 <= finding.line <= len(lines):
        return None
    text = lines[finding.line - 1].replace("\t", " ")
    start = max((finding.column or 1) - 1, 0)
    length = max(min(finding.span, max(len(text) - start, 1)), 1)
    if len(text) > width:
        left = max(0, min(start - width // 3, len(text) - width))
        text = ("…" if left else "") + text[left : left + width - 2] + "…"
        start = start - left + (1 if left else 0)
        length = max(min(length, width - start - 1), 1)
    return text, start, length


def _rich(report: Report) -> None:
    from rich.text import Text

    from comunicast.output import stdout_console

    console: Console = stdout_console()
    width = max(console.width - 10, 40)
    # The severity words line up whatever their length in the language ("avvertenza": 10).
    word_width = max(len(_("error")), len(_("warning")), len(_("info")))
    for file in report.files:
        if not file.findings:
            continue
        console.print(Text(file.shown_path, style="bold underline"))
        for f in file.findings:
            style = _STYLE[f.severity.label]
            head = Text("  ")
            place = f"{f.line}:{f.column}" if f.line is not None else "-"
            head.append(f"{place:>7}  ", style="dim")
            head.append(_severity_word(f).ljust(word_width), style=style)
            head.append(f" {f.message} ")
            head.append(f.rule, style="dim")
            console.print(head)
            cut = _snippet(file.source, f, width)
            if cut is not None:
                text, start, length = cut
                number = f"{f.line:>6} │ "
                console.print(Text.assemble((number, "dim"), text))
                console.print(Text.assemble((" " * 6 + " │ ", "dim"),
                                            " " * start, ("^" * length, style)))
            if f.suggestion:
                console.print(Text.assemble(
                    "         ", ("→ " + _("suggestion: {text}").format(text=f.suggestion),
                                  "green")))
        console.print()
    console.print(Text(summary_line(report), style="bold"))


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(report: Report) -> None:
    """GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=rule::message`."""
    from comunicast.output import echo, warn

    command = {"error": "error", "warning": "warning", "info": "notice"}
    for file in report.files:
        for f in file.findings:
            props = [f"file={_escape_property(file.shown_path)}"]
            if f.line is not None:
                props.append(f"line={f.line}")
                if f.column is not None:
                    props.append(f"col={f.column}")
            props.append(f"title={_escape_property(f.rule)}")
            message = f.message + (" (" + _("suggestion: {text}").format(text=f.suggestion) + ")"
                                   if f.suggestion else "")
            echo(f"::{command[f.severity.label]} {','.join(props)}::{_escape_data(message)}")
    warn(summary_line(report))
