"""The typer app, global options, and the one place that turns errors into messages and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from comunicast.cli.argv import COMMANDS, config_file, invoked_command, version_line
from comunicast.errors import ComunicastError, DraftError
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config

#: Exit code for a bug in comunicast itself (BSD sysexits EX_SOFTWARE), distinct from SPEC §3.1.
EXIT_INTERNAL = 70


@dataclass
class _State:
    config_path: Path | None = None
    debug: bool = False
    config: Config | None = None


state = _State()


class _Group(TyperGroup):
    """Runs commands inside the error boundary, so CliRunner and the console script behave alike.

    Typer builds this group afresh for every invocation; `main` chooses the language first
    (SPEC §7) and translates the whole tree's help, so `--help` and usage errors speak it too.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        from comunicast.cli.framework import localize

        argv = list(sys.argv[1:] if args is None else args)
        choose_interface_language(argv)
        localize(self)
        return super().main(
            argv, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
        )

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except typer.TyperException as exc:
            from comunicast.cli.framework import localized_error

            raise localized_error(exc) from exc.__cause__

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ComunicastError as exc:
            if state.debug:
                import traceback

                traceback.print_exc()
            report_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except typer.TyperException as exc:
            from comunicast.cli.framework import localized_error

            raise localized_error(exc) from exc.__cause__


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(version_line())
        raise typer.Exit()


def _root(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="COMUNICAST_CONFIG",
            help=_(
                "Path of comunicast.yaml (default: found by walking up from the current folder)."
            ),
            show_envvar=True,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help=_("Show a traceback on errors."))] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help=_("Print the version.")),
    ] = False,
) -> None:
    """Global options; they go before the command."""
    state.config_path = config
    state.debug = debug
    state.config = None


def get_config() -> Config:
    """The project configuration (loaded once per run, honouring --config and COMUNICAST_CONFIG).

    Until it is read, the environment chooses the language (a broken comunicast.yaml is reported
    in it); once read, its `language:` does, unless COMUNICAST_LANG overrides it (SPEC §7).
    """
    if state.config is None:
        from comunicast.config import load_config
        from comunicast.i18n import choose_language, environment_language, set_language

        set_language(environment_language())
        state.config = load_config(state.config_path)
        set_language(choose_language(state.config.language))
    return state.config


def choose_interface_language(argv: list[str]) -> None:
    """Speak the language of SPEC §7 from the start: env, else the project's `language:` line.

    Runs before every command and `--help`, so it only finds comunicast.yaml the way
    `config_path` does (--config, COMUNICAST_CONFIG, walking up) and reads one line of it,
    without the YAML parser or the models.
    """
    from comunicast.i18n import choose_language, configured_language, set_language

    set_language(choose_language(configured_language(config_file(argv))))


def build_app(commands: Sequence[str] = COMMANDS) -> typer.Typer:
    """The typer app with `commands` (each module exposes `register(app)`)."""
    import importlib

    built = typer.Typer(
        name="comunicast",
        cls=_Group,
        help=_(
            "Check, render and publish official messages of a Comune to its WhatsApp Channel "
            "and other channels, exactly once; print the QR code and posters that invite "
            "citizens to follow."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    built.callback()(_root)
    for name in commands:
        importlib.import_module(f"comunicast.cli.{name}").register(built)
    return built


def __getattr__(name: str) -> Any:
    """`app`, the whole command tree, built on first use (by tests and Python callers)."""
    if name == "app":
        built = globals()["app"] = build_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def report_error(exc: ComunicastError) -> None:
    """Print one clear message for a user error (and its hint) on stderr."""
    from comunicast.output import warn

    if isinstance(exc, DraftError):
        for line in str(exc).splitlines():
            warn(_("error: {message}").format(message=line))
    else:
        text = str(exc)
        lines = text.splitlines() or [""]
        warn(_("error: {message}").format(message=lines[0]))
        for line in lines[1:]:
            warn(f"  {line}")
    if exc.hint:
        warn(_("hint: {text}").format(text=exc.hint))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `comunicast` command: the one error → exit-code boundary.

    As the console script (no `argv`), the process ends as soon as the work is done (`_leave`);
    called from Python with an `argv`, it raises SystemExit like any command-line function.
    """
    if argv is not None:
        _main(argv)
        sys.exit(0)
    try:
        _main(None)
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code: object) -> None:
    """Flush what was written and end the process without tearing the interpreter down.

    Python's finalisation (module teardown, a last garbage collection of every object the imports
    made) takes 50–100 ms after the work is done, on every command, including each cron run.
    Every file comunicast writes is closed or renamed in place before this point, and the ledger
    is closed by its owner; only the standard streams and logging handlers are still buffered.
    Under a tracer, profiler or coverage tool the normal exit is kept, so their reports are
    written. Sender plugins are not ours: their atexit handlers run here (logging's shutdown
    is one), and while a thread one started is still running, the normal exit waits for it.
    """
    import atexit
    import os

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("text"): Python prints the text and exits 1
        sys.stderr.write(f"{code}\n")
        status = 1
    if sys.gettrace() is not None or sys.getprofile() is not None or "coverage" in sys.modules:
        sys.exit(status)
    if "threading" in sys.modules:
        import threading

        main = threading.main_thread()
        if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
            sys.exit(status)
    atexit._run_exitfuncs()  # a fraction of a millisecond: logging's shutdown and little else
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): the reader went away
            pass
    os._exit(status)


def _main(argv: list[str] | None) -> None:
    try:
        command = invoked_command(sys.argv[1:] if argv is None else argv)
        runner = build_app((command,)) if command else build_app()
        runner(args=argv, prog_name="comunicast")
    except ComunicastError as exc:
        if state.debug:
            import traceback

            traceback.print_exc()
        report_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write(_("interrupted") + "\n")
        sys.exit(130)
    except Exception as exc:  # a bug in comunicast: say so plainly, full detail only with --debug
        if state.debug:
            raise
        from comunicast.output import warn

        try:  # the text may quote a secret (an adapter's bug): mask every one we know
            from comunicast.senders.registry import mask_configured

            text = mask_configured(str(exc), state.config)
        except Exception:  # noqa: BLE001 - masking failed: say only what kind of error it was
            text = "…"
        warn(
            _("internal error: {kind}: {msg}").format(kind=type(exc).__name__, msg=text)
            + "\n"
            + _("this is a bug in comunicast; run again with --debug for details and report it")
        )
        sys.exit(EXIT_INTERNAL)
