"""The one translation function for user-facing strings (English source strings, gettext)."""

from __future__ import annotations

import gettext as _gettext
from pathlib import Path

_LOCALE_DIR = Path(__file__).parent / "locale"
_translation: _gettext.NullTranslations = _gettext.NullTranslations()


def set_language(language: str) -> None:
    """Switch user-facing output to `language` (`it` or `en`); unknown catalogs fall back to English."""
    global _translation
    _translation = _gettext.translation(
        "comunicast", localedir=_LOCALE_DIR, languages=[language], fallback=True
    )


def _(message: str) -> str:
    """Translate `message` into the configured language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message that depends on a count."""
    return _translation.ngettext(singular, plural, n)
