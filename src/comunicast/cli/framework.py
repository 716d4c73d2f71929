"""The command-line framework's own words in the user's language: help, usage, usage errors.

Typer's vendored Click writes its words in English literals ("Usage: ", "Show this message and
exit.", "No such option: …") and Typer's own (section titles, "default: …") through the stdlib
`gettext` domain `messages`, which follows the process locale rather than SPEC §7. Both are
taken over here, once per invocation, before any help or error is written:

- `localize(command)` translates the help texts of the whole command tree in place (typer builds
  a fresh tree for every invocation, from the English msgids written in the code), and gives
  every command a context whose help formatter translates the framework's words;
- `localized_error(exc)` rebuilds a usage error's text from its parts in the current language.
"""

from __future__ import annotations

import re
from typing import IO, Any

import typer.core
from typer._click import core as _click_core
from typer._click import exceptions as _click_exceptions
from typer._click.formatting import HelpFormatter

from comunicast.i18n import N_, _

#: Typer's strings that go through gettext (typer.core, rich_utils), kept in our catalog.
TYPER_WORDS = (
    N_("Options"),
    N_("Arguments"),
    N_("Commands"),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("required"),
    N_("(dynamic)"),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("Aborted!"),
)

#: English messages Click and Typer build in literals, and their msgids (named groups → fields).
#: Patterns, not compiled: every command imports this module, few ever show such a message (re
#: compiles and caches a pattern the first time it is matched).
_MESSAGES: tuple[tuple[str, str], ...] = tuple(
    (pattern + r"\Z", msgid)
    for pattern, msgid in (
        (r"No such option: (?P<name>.*)", N_("No such option: {name}")),
        (r"Got unexpected extra argument(?:\(s\)|s)? \((?P<args>.*)\)", N_("Got unexpected extra argument(s) ({args})")),
        (r"Option (?P<name>'[^']*') requires an argument\.", N_("Option {name} requires a value.")),
        (r"Option (?P<name>'[^']*') requires (?P<count>\d+) arguments\.", N_("Option {name} requires {count} values.")),
        (r"Option (?P<name>'[^']*') does not take a value\.", N_("Option {name} does not take a value.")),
        (r"Argument (?P<name>'[^']*') takes (?P<count>\d+) values\.", N_("Argument {name} takes {count} values.")),
        (r"Missing command\.", N_("Missing command.")),
        (r"No such command (?P<name>'[^']*')\.", N_("No such command {name}.")),
        (r"No such command (?P<name>'[^']*')\. Did you mean (?P<matches>.*)\?", N_("No such command {name}. Did you mean {matches}?")),
        (r"(?P<head>.+?)\.? Did you mean (?P<matches>.*)\?", N_("{head}. Did you mean {matches}?")),
        (r"(?:Value error, )?(?P<value>'.*') is not one of (?P<choices>.*)\.", N_("{value} is not one of {choices}.")),
        (r"(?:Value error, )?(?P<value>'.*') does not match the formats (?P<formats>.*)\.", N_("{value} does not match the formats {formats}.")),
        (r"Input should be a valid integer.*", N_("write a whole number")),
        (r"Input should be a valid number.*", N_("write a number")),
        (r"Input should be a valid boolean.*", N_("write true or false")),
        (r"Input should be greater than or equal to (?P<limit>.*)", N_("must be at least {limit}")),
        (r"Input should be greater than (?P<limit>.*)", N_("must be greater than {limit}")),
        (r"Input should be less than or equal to (?P<limit>.*)", N_("must be at most {limit}")),
        (r"Input should be less than (?P<limit>.*)", N_("must be less than {limit}")),
        (r"(?P<label>File|Directory|Path) (?P<path>'.*') does not exist\.", N_("{path} does not exist.")),
        (r"(?P<label>File|Directory|Path) (?P<path>'.*') is a file\.", N_("{path} is a file, not a folder.")),
        (r"(?P<label>File|Directory|Path) (?P<path>'.*') is a directory\.", N_("{path} is a folder, not a file.")),
        (r"(?P<label>File|Directory|Path) (?P<path>'.*') is not readable\.", N_("{path} cannot be read.")),
        (r"(?P<label>File|Directory|Path) (?P<path>'.*') is not writable\.", N_("{path} cannot be written.")),
        (r"Value must be an iterable\.", N_("give a list of values")),
    )
)


def translate_message(message: str) -> str:
    """A message of Click or Typer in the current language (ours, already translated, as is)."""
    for pattern, msgid in _MESSAGES:
        match = re.match(pattern, message, re.DOTALL)
        if match:
            fields = match.groupdict()
            if "head" in fields:  # a message of its own, with a suggestion added
                fields["head"] = translate_message(fields["head"] + ".").rstrip(".")
            return _(msgid).format(**fields)
    return message


class LocalizedFormatter(HelpFormatter):
    """Click's help formatter, with its words and the help option's text translated."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _("Usage: ") if prefix is None else prefix)

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        # The help option is made by Click itself with an English literal.
        rows = [(term, _(text) if text == "Show this message and exit." else text) for term, text in rows]
        super().write_dl(rows, col_max, col_spacing)


_SHOW_HELP = N_("Show this message and exit.")


class LocalizedContext(_click_core.Context):
    """A context whose help is written by `LocalizedFormatter`."""

    formatter_class = LocalizedFormatter


def localize(command: Any) -> None:
    """Translate the help of `command` and its subcommands in place; typer's words too."""
    # Typer's own strings use the stdlib's gettext; route them through our catalog.
    typer.core._ = _  # type: ignore[attr-defined]
    _localize(command)


def _localize(command: Any) -> None:
    command.context_class = LocalizedContext
    for attr in ("help", "short_help", "epilog"):
        text = getattr(command, attr, None)
        if isinstance(text, str) and text:
            setattr(command, attr, _(text))
    command.options_metavar = _("[OPTIONS]")
    if hasattr(command, "subcommand_metavar"):
        command.subcommand_metavar = _("COMMAND [ARGS]...")
    for param in getattr(command, "params", ()):
        text = getattr(param, "help", None)
        if isinstance(text, str) and text:
            param.help = _(text)
    for sub in getattr(command, "commands", {}).values():
        _localize(sub)


def localized_error(exc: Exception) -> Exception:
    """`exc` (a Click usage error) as one that shows itself in the current language."""
    if isinstance(exc, _click_exceptions.NoArgsIsHelpError) or not isinstance(
        exc, _click_exceptions.UsageError
    ):
        return exc
    return _LocalizedUsageError(_message_of(exc), exc)


def _message_of(exc: Any) -> str:
    if isinstance(exc, _click_exceptions.MissingParameter):
        param = exc.param
        hint = _hint(exc)
        kind = exc.param_type or (param.param_type_name if param is not None else "")
        if kind == "argument":
            text = _("Missing argument {name}.").format(name=hint)
        elif kind == "option":
            text = _("Missing option {name}.").format(name=hint)
        else:
            text = _("Missing parameter {name}.").format(name=hint)
        if exc.message:
            text += " " + translate_message(exc.message)
        return text
    if isinstance(exc, _click_exceptions.BadParameter):
        message = _pydantic_message(exc) or translate_message(exc.message)
        hint = _hint(exc)
        if hint:
            return _("Invalid value for {name}: {message}").format(name=hint, message=message)
        return _("Invalid value: {message}").format(message=message)
    if isinstance(exc, _click_exceptions.NoSuchOption):
        text = _("No such option: {name}").format(name=exc.option_name)
        if exc.possibilities:
            text += " " + _("(Possible options: {options})").format(
                options=", ".join(sorted(exc.possibilities))
            )
        return text
    return translate_message(exc.message)


def _hint(exc: Any) -> str:
    if exc.param_hint is not None:
        hint = exc.param_hint
        return hint if isinstance(hint, str) else " / ".join(repr(x) for x in hint)
    if exc.param is not None:
        hint = str(exc.param.get_error_hint())
        return hint.replace("(env var: ", "(" + _("env var: {var}").format(var=""))
    return ""


def _pydantic_message(exc: Any) -> str | None:
    """Typer ≥ 0.29 converts values with pydantic: say what pydantic found in our words."""
    cause = exc.__cause__
    if cause is None or not hasattr(cause, "errors"):
        return None
    from comunicast.validation import pydantic_message

    errors = cause.errors(include_url=False)
    return translate_message(pydantic_message(errors[0])) if errors else None


class _LocalizedUsageError(_click_exceptions.UsageError):
    """A usage error written in the current language, with SPEC §7's `error:` prefix."""

    def __init__(self, message: str, original: Any) -> None:
        super().__init__(message, original.ctx)
        self.exit_code = original.exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        import sys

        out = file or sys.stderr
        ctx = self.ctx
        if ctx is not None:
            out.write(ctx.get_usage() + "\n")
            if ctx.command.get_help_option(ctx) is not None:
                out.write(
                    _("Try '{command} {option}' for help.").format(
                        command=ctx.command_path, option=ctx.help_option_names[0]
                    )
                    + "\n"
                )
            out.write("\n")
        out.write(_("error: {message}").format(message=self.format_message()) + "\n")
        out.flush()
