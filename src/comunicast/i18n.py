"""The language of the interface (SPEC §7): choosing it, translating, Italian dates and numbers.

English is the source language: every string a person reads is written in English in the code,
wrapped in `_()` / `ngettext()` with named `{placeholders}`, and translated through the gettext
catalog `locale/<lang>/LC_MESSAGES/comunicast.mo` (compiled from the `.po` at build time).
`N_()` only marks a string for the catalog; it is translated later, where it is shown.

Choosing the language is cheap on purpose (no YAML parser, no Babel): `--help` and `--version`
go through it on every run.
"""

from __future__ import annotations

import gettext as _gettext
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

#: Languages with a catalog, besides the source language.
SUPPORTED = ("it", "en")
DEFAULT_LANGUAGE = "it"
DOMAIN = "comunicast"
LOCALE_DIR = Path(__file__).parent / "locale"

_translation: _gettext.NullTranslations = _gettext.NullTranslations()
_language = "en"

# A top-level `language: xx` line of comunicast.yaml (optionally quoted, with a comment after).
_LANGUAGE_LINE = re.compile(
    r"""^language[ \t]*:[ \t]*(["']?)([A-Za-z_-]+)\1[ \t]*(?:\#.*)?$""", re.MULTILINE
)


def _normalize(value: str | None) -> str | None:
    """`it_IT.UTF-8` → `it`, `en` → `en`; `C`, `POSIX`, empty and unknown languages → None."""
    if not value:
        return None
    code = re.split(r"[_.@-]", value.strip(), maxsplit=1)[0].lower()
    if code in ("c", "posix", ""):
        return None
    return code


def environment_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for: COMUNICAST_LANG, LC_ALL, LC_MESSAGES, LANG, Italian.

    `C`, `C.UTF-8` and `POSIX` decide nothing and the search goes on; a locale of a language
    comunicast does not speak (`de_DE.UTF-8`) gives the default, Italian.
    """
    return choose_language(None, environ)


def choose_language(config_language: str | None, environ: Mapping[str, str] | None = None) -> str:
    """SPEC §7: COMUNICAST_LANG > `language:` of comunicast.yaml > LC_ALL/LC_MESSAGES/LANG > it."""
    env = os.environ if environ is None else environ
    forced = _normalize(env.get("COMUNICAST_LANG"))
    if forced in SUPPORTED:
        return forced
    if config_language in SUPPORTED:
        return config_language
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        code = _normalize(env.get(var))
        if code is not None:
            return code if code in SUPPORTED else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def configured_language(path: Path | None) -> str | None:
    """The `language:` written at the top level of the comunicast.yaml at `path`, if any.

    A line scan, not a YAML parse: it runs before every command (and `--help`), and a broken
    file must not stop the help from being shown. The full load validates the value.
    """
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            raw = fh.read(1 << 20)
    except OSError:
        return None
    match = _LANGUAGE_LINE.search(raw.decode("utf-8", "replace"))
    return match.group(2).lower() if match else None


def set_language(language: str) -> None:
    """Switch user-facing output to `language` (`it` or `en`); a missing catalog means English."""
    global _translation, _language
    _language = language if language in SUPPORTED else DEFAULT_LANGUAGE
    if _language == "en":
        _translation = _gettext.NullTranslations()
    else:
        _translation = _gettext.translation(
            DOMAIN, localedir=LOCALE_DIR, languages=[_language], fallback=True
        )


def current_language() -> str:
    """The language output is in now (`it` or `en`)."""
    return _language


@contextmanager
def language(code: str) -> Iterator[None]:
    """Speak `code` inside the block, then the language of before."""
    before = _language
    set_language(code)
    try:
        yield
    finally:
        set_language(before)


def _(message: str) -> str:
    """Translate `message` into the current language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message that depends on a count."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for the catalog without translating it (it is translated where shown)."""
    return message


# -- numbers and dates in text output -----------------------------------------------------------

_MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)


def format_number(value: float, decimals: int = 0) -> str:
    """`1200` → `1.200` in Italian, `1,200` in English (text output only, never JSON)."""
    text = f"{value:,.{decimals}f}"
    if _language == "it":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_date(value: date) -> str:
    """`1 dicembre 2026` / `1 December 2026`."""
    month = _(_MONTHS[value.month - 1])
    return f"{value.day} {month} {value.year}"


def format_datetime(value: datetime) -> str:
    """`1 dicembre 2026, 08:00` / `1 December 2026, 08:00` (in the time zone `value` carries)."""
    return f"{format_date(value)}, {value:%H:%M}"
