"""Style rules: readability (Gulpease), bureaucratic Italian, sentences in capitals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from comunicast.i18n import _
from comunicast.rules.engine import Context, Hit, Option, Severity, rule
from comunicast.rules.text import count_letters, fold, sentences, strip_urls, words


def gulpease(text: str) -> float | None:
    """Gulpease index of `text` (89 + (300·sentences − 10·letters) / words); None without words.

    URLs are removed; letters are letters only (no digits or punctuation); a word is a run of
    letters or digits; sentences end at . ! ? … and at line ends (a dot before a digit, as in
    1.200 or 8.30, does not end one).
    """
    clean = strip_urls(text)
    n_words = 0
    n_letters = 0
    n_sentences = 0
    for _offset, sentence in sentences(clean):
        found = words(sentence)
        if not found:
            continue
        n_sentences += 1
        n_words += len(found)
        n_letters += sum(count_letters(w) for w in found)
    if n_words == 0:
        return None
    return 89 + (300 * n_sentences - 10 * n_letters) / n_words


@rule(
    "style.readability",
    Severity.WARNING,
    _("Gulpease index below min_gulpease (default 60)"),
    options={
        "min_gulpease": Option((int, float), 60, _("lowest acceptable Gulpease index"), minimum=0),
        "min_words": Option(int, 20, _("texts with fewer words are not measured"), minimum=0),
    },
)
def _readability(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    from comunicast.render import visible_text

    text = visible_text(ctx.draft.body)
    if ctx.config.render.title:
        text = ctx.draft.title + "\n" + text
    if len(words(strip_urls(text))) < opts["min_words"]:
        return
    index = gulpease(text)
    if index is None or index >= opts["min_gulpease"]:
        return
    line, column = ctx.body_place(0)
    yield Hit(
        _("hard to read: Gulpease index {index:.0f}, below {min}; write shorter sentences with "
          "shorter, everyday words").format(index=index, min=opts["min_gulpease"]),
        line, column,
    )


# -- burocratese ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A bureaucratic expression and its plain alternative."""

    expr: str
    plain: str
    note: str | None


@cache
def _burocratese() -> tuple[re.Pattern[str], tuple[Expression, ...]]:
    """One alternation regex over every expression of the data file (folded text)."""
    import yaml

    raw = (resources.files("comunicast.rules") / "data" / "burocratese.yaml").read_text("utf-8")
    entries = yaml.safe_load(raw)
    parts = []
    table = []
    for i, entry in enumerate(entries):
        pattern = fold(entry.get("pattern") or re.escape(entry["expr"]))
        pattern = pattern.replace(r"\ ", " ").replace(" ", r"\s+")
        # An expression ending in an apostrophe (dell') runs straight into the next word.
        parts.append(rf"(?P<e{i}>(?<![^\W_])(?:{pattern})(?:(?<=')|(?![^\W_])))")
        table.append(Expression(entry["expr"], entry.get("plain") or "", entry.get("note")))
    return re.compile("|".join(parts)), tuple(table)


def find_burocratese(text: str) -> Iterator[tuple[int, int, Expression]]:
    """(start, end, expression) for each bureaucratic expression in `text`."""
    regex, table = _burocratese()
    for match in regex.finditer(fold(text)):
        assert match.lastgroup is not None
        yield match.start(), match.end(), table[int(match.lastgroup[1:])]


@rule("style.burocratese", Severity.INFO,
      _('bureaucratic Italian with a plain alternative ("ai sensi di" → "secondo")'))
def _burocratese_rule(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    sources: list[tuple[str, Any]] = [(ctx.draft.title, ctx.title_place),
                                      (ctx.masked_body, ctx.body_place)]
    for text, place in sources:
        for start, end, expr in find_burocratese(text):
            found = " ".join(text[start:end].split())
            line, column = place(start)
            if expr.plain:
                message = _('"{found}" is bureaucratic: write "{plain}"').format(
                    found=found, plain=expr.plain)
            else:
                message = _('"{found}" is bureaucratic: {note}').format(
                    found=found, note=_(expr.note or "leave it out"))
            if expr.plain and expr.note:
                message += f" ({_(expr.note)})"
            yield Hit(message, line, column, expr.plain or None, span=end - start)


# -- shouting ------------------------------------------------------------------------------------


@rule(
    "style.shouting",
    Severity.WARNING,
    _("a sentence in CAPITALS"),
    options={"min_words": Option(int, 3, _("words in capitals that make a sentence shout"),
                                 minimum=1)},
)
def _shouting(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    sources: list[tuple[str, Any]] = [(ctx.draft.title, ctx.title_place),
                                      (ctx.masked_body, ctx.body_place)]
    for text, place in sources:
        for offset, sentence in sentences(text):
            # Only words of letters: codes such as IT60 X054 or A562S are not shouting.
            lettered = [w for w in words(sentence) if w.isalpha()]
            if len(lettered) < opts["min_words"]:
                continue
            if not all(w.isupper() for w in lettered):
                continue
            lead = len(sentence) - len(sentence.lstrip())
            line, column = place(offset + lead)
            fixed = sentence.strip().capitalize()
            yield Hit(
                _("sentence in CAPITALS reads as shouting and is harder to read: write it in "
                  "normal case (bold for emphasis)"),
                line, column, fixed, span=len(sentence.strip()),
            )
