"""`comunicast qr`: the channel's QR code in the terminal, as a file, or on a poster (SPEC §6)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from comunicast.cli.options import OutputFormat
from comunicast.errors import ConfigError, UsageError
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.poster.build import Result


class PaperChoice(str, Enum):
    a4 = "a4"
    a3 = "a3"
    a5 = "a5"
    square = "square"
    story = "story"



def register(app: typer.Typer) -> None:
    """Add the `qr` command to `app`."""
    app.command(
        name="qr",
        help=_(
            "Print the channel's QR code, or write it (--code-only) or a poster to a PNG, PDF or "
            "SVG file. Every file is decoded back before it is put in place: if the code does not "
            "read exactly as the link, nothing is written. A poster needs comunicast.yaml "
            "(organization name); a bare code with --url does not."
        ),
    )(qr)


def qr(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help=_(
                "File to write: .png, .pdf (poster or code) or .svg (code only). "
                "Without it, the code is printed in the terminal."
            ),
        ),
    ] = None,
    code_only: Annotated[
        bool,
        typer.Option(
            "--code-only", help=_("Write the code alone (4-module quiet zone), not a poster.")
        ),
    ] = False,
    paper: Annotated[
        PaperChoice | None,
        typer.Option(
            "--paper",
            help=_(
                "Poster size: a4 (default), a3, a5 at 300 dpi; square 1080×1080, story 1080×1920 for social media."
            ),
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help=_("Link to encode (default: channel.invite_url from comunicast.yaml).")
        ),
    ] = None,
    logo_in_code: Annotated[
        bool,
        typer.Option(
            "--logo-in-code",
            help=_(
                "Place organization.logo inside the code (error correction H, ≤ 15% of its area)."
            ),
        ),
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help=_("Report as text or JSON."))
    ] = OutputFormat.text,
) -> None:
    """Print the channel's QR code, or write it (--code-only) or a poster to a PNG, PDF or SVG file.

    Every file is decoded back with an independent decoder before it is put in place: if the
    code does not read exactly as the link, nothing is written. A poster needs comunicast.yaml
    (organization name); a bare code with --url does not.
    """
    poster = out is not None and not code_only
    if out is None and paper is not None:
        raise UsageError(_("--paper needs --out poster.png or --out poster.pdf"))
    if code_only and paper is not None:
        raise UsageError(_("--paper applies to posters; drop --code-only or --paper"))
    if out is None and logo_in_code:
        raise UsageError(_("--logo-in-code needs --out (a terminal cannot show the logo)"))

    config = _config(needed=poster or url is None or logo_in_code)
    link = url if url is not None else config.channel.invite_url if config else ""
    color = config.poster.qr_color if config else "#000000"
    result = _make(
        config,
        link,
        out,
        code_only=code_only,
        paper=(paper or PaperChoice.a4).value,
        color=color,
        logo_in_code=logo_in_code,
        url_from_option=url is not None,
    )
    _report(result, output_format)


def _config(*, needed: bool) -> Config | None:
    """The configuration; when not `needed`, a project without comunicast.yaml is fine."""
    from comunicast.cli.app import get_config, state

    try:
        return get_config()
    except ConfigError:
        if needed or state.config_path is not None:
            raise
        from comunicast.config import find_config

        if find_config() is not None:  # a broken file is reported, not silently ignored
            raise
        return None


def _make(
    config: Config | None,
    link: str,
    out: Path | None,
    *,
    code_only: bool,
    paper: str,
    color: str,
    logo_in_code: bool,
    url_from_option: bool,
) -> Result:
    from comunicast.poster import build
    from comunicast.poster.qr import check_contrast
    from comunicast.poster.texts import poster_texts

    try:
        link = build.check_url(link)
    except UsageError as exc:
        if not url_from_option and config is not None:
            raise config.error(exc.message, "channel", "invite_url", hint=exc.hint) from None
        raise
    if not url_from_option and config is not None and build.is_example_url(link):
        raise config.error(
            _("channel.invite_url is still the example link written by `comunicast init`"),
            "channel",
            "invite_url",
            hint=_(
                "put the channel's real invite link there (WhatsApp → Updates → the channel → "
                "Share), or pass --url"
            ),
        )
    try:
        check_contrast(color)
    except ConfigError as exc:
        raise _at(config, exc, "poster", "qr_color") from None
    if out is None:
        return build.terminal_code(link, color)
    logo = None
    if config is not None and config.organization.logo and (logo_in_code or not code_only):
        try:
            logo = build.load_logo(config.resolve_path(config.organization.logo))
        except ConfigError as exc:
            raise _at(config, exc, "organization", "logo") from None
    elif logo_in_code:
        raise ConfigError(_("--logo-in-code needs organization.logo in comunicast.yaml"))
    if code_only:
        return build.build_code(link, out, color=color, logo=logo if logo_in_code else None)
    assert config is not None
    from comunicast.poster.fonts import poster_fonts

    regular = config.resolve_path(config.poster.font) if config.poster.font else None
    bold = config.resolve_path(config.poster.font_bold) if config.poster.font_bold else None
    try:
        fonts = poster_fonts(regular, bold)
    except ConfigError as exc:
        key = "font_bold" if bold is not None and str(bold) in exc.message else "font"
        raise _at(config, exc, "poster", key) from None
    return build.build_poster(
        out,
        poster_texts(config, link),
        fonts,
        paper=paper,
        brand=config.organization.color,
        color=color,
        logo=logo,
        logo_in_code=logo_in_code,
    )


def _at(config: Config | None, exc: ConfigError, *keys: str) -> ConfigError:
    """`exc` placed at the key of comunicast.yaml that caused it."""
    if config is None or exc.path is not None:
        return exc
    return config.error(exc.message, *keys, hint=exc.hint)


def _report(result: Result, output_format: OutputFormat) -> None:
    from comunicast.output import echo, is_terminal, print_json, stdout_console

    if output_format is OutputFormat.json:
        data = result.as_json()
        if result.kind == "terminal":
            data["lines"] = result.lines
        print_json(data)
        return
    if result.kind == "terminal":
        if is_terminal():
            # Dark on light whatever the terminal's theme: phones read dark modules on light.
            console = stdout_console()
            for line in result.lines:
                # Never wrapped or cropped: a folded row would break the code.
                console.print(
                    line,
                    style="#000000 on #ffffff",
                    markup=False,
                    highlight=False,
                    no_wrap=True,
                    overflow="ignore",
                    crop=False,
                )
        else:
            for line in result.lines:
                echo(line)
        echo(result.url)
        return
    from comunicast.i18n import format_number

    wrote = (
        _("Wrote the poster {path} ({paper}{fmt}, {size} KB), checked: it scans as {url}")
        if result.kind == "poster"
        else _("Wrote the QR code {path} ({paper}{fmt}, {size} KB), checked: it scans as {url}")
    )
    paper = (
        f"{result.paper.upper() if result.paper in ('a3', 'a4', 'a5') else result.paper}, "
        if result.paper
        else ""
    )
    echo(
        wrote.format(
            path=result.path,
            paper=paper,
            fmt=result.format.upper(),
            size=format_number((result.bytes or 0) / 1024),
            url=result.url,
        )
    )
    if result.code_cm is not None and result.scan_distance_cm is not None:
        distance = result.scan_distance_cm
        far = f"{format_number(distance / 100, 1)} m" if distance >= 100 else f"{distance} cm"
        echo(
            _("Code printed {size} × {size} cm: scans from about {far}.").format(
                size=format_number(result.code_cm, 1), far=far
            )
        )
    elif result.code_px is not None:
        echo(_("Code {px} × {px} px, for screens.").format(px=result.code_px))
