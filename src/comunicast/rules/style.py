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
from comunicast.rules.text import (
    count_letters,
    fold,
    has_word,
    sentences,
    split_sentences,
    strip_urls,
    words,
)


def readability_counts(text: str) -> tuple[int, int, int]:
    """(sentences, words, letters) of `text` as the Gulpease index counts them.

    URLs are removed; letters are letters only (no digits or punctuation); a word is a run of
    letters or digits (an apostrophe separates `l'anno` into two); sentences end at . ! ? … and
    at line ends (a dot before a digit, as in 1.200 or 8.30, does not end one).
    """
    clean = strip_urls(text)
    n_sentences = sum(1 for piece in split_sentences(clean) if has_word(piece))
    return n_sentences, len(words(clean)), count_letters(clean)


def gulpease(text: str) -> float | None:
    """Gulpease index of `text`: 89 + (300·sentences − 10·letters) / words; None without words."""
    n_sentences, n_words, n_letters = readability_counts(text)
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
    n_sentences, n_words, n_letters = readability_counts(text)
    if n_words == 0 or n_words < opts["min_words"]:
        return
    index = 89 + (300 * n_sentences - 10 * n_letters) / n_words
    if index >= opts["min_gulpease"]:
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


_END = r"(?:(?<=')|(?![^\W_]))"  # a word ends here, or the expression ends in an apostrophe


def _first_chars(pattern: str) -> set[str] | None:
    """The characters a match of `pattern` can start with, or None when that is not simple."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as p  # type: ignore[attr-defined]

    def of(items: Any) -> set[str] | None:
        for op, av in items:
            if op is c.LITERAL:
                return {chr(av)}
            if op is c.IN:
                found: set[str] = set()
                for o, a in av:
                    if o is c.LITERAL:
                        found.add(chr(a))
                    elif o is c.RANGE:
                        found.update(chr(x) for x in range(a[0], a[1] + 1))
                    else:
                        return None
                return found
            if op is c.SUBPATTERN:
                return of(av[-1])
            if op is c.BRANCH:
                found = set()
                for branch in av[1]:
                    first = of(branch)
                    if first is None:
                        return None
                    found |= first
                return found
            if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] > 0:
                return of(av[2])
            return None
        return None

    return of(p.parse(pattern))


@cache
def _burocratese() -> tuple[re.Pattern[str], _LazyPatterns, tuple[Expression, ...]]:
    """The matcher of the data file's expressions: a word-start finder and, for each possible
    first letter, one alternation regex of the expressions that can start with it.

    A single alternation of ~90 expressions tried at every word start costs about a millisecond
    per draft; dispatching on the first letter cuts that by an order of magnitude.
    """
    import yaml  # type: ignore[import-untyped, unused-ignore]

    raw = (resources.files("comunicast.rules") / "data" / "burocratese.yaml").read_text("utf-8")
    entries = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    by_char: dict[str, list[str]] = {}
    anywhere: list[str] = []
    table = []
    for i, entry in enumerate(entries):
        pattern = fold(entry.get("pattern") or re.escape(entry["expr"]))
        pattern = pattern.replace(r"\ ", " ").replace(" ", r"\s+")
        part = rf"(?P<e{i}>{pattern})"
        first = _first_chars(pattern)
        if first is None:
            anywhere.append(part)
        else:
            for ch in first:
                by_char.setdefault(ch, []).append(part)
        table.append(Expression(entry["expr"], entry.get("plain") or "", entry.get("note")))
    if anywhere:  # expressions whose first letter cannot be told: tried at every word
        for ch in "abcdefghijklmnopqrstuvwxyz0123456789":
            by_char.setdefault(ch, [])
    sources = {ch: "(?:" + "|".join(parts + anywhere) + ")" + _END for ch, parts in by_char.items()}
    starts = re.compile(r"(?<![^\W_])[" + re.escape("".join(sorted(sources))) + "]")
    return starts, _LazyPatterns(sources), tuple(table)


class _LazyPatterns(dict[str, re.Pattern[str]]):
    """Regexes compiled on first use: a single draft meets only some first letters."""

    def __init__(self, sources: dict[str, str]) -> None:
        super().__init__()
        self.sources = sources

    def __missing__(self, key: str) -> re.Pattern[str]:
        compiled = self[key] = re.compile(self.sources[key])
        return compiled

    def compile_all(self) -> None:
        """Compile every regex now (before forking workers that would each compile them)."""
        for key in self.sources:
            self[key]


def find_burocratese(text: str) -> Iterator[tuple[int, int, Expression]]:
    """(start, end, expression) for each bureaucratic expression in `text`."""
    starts, by_char, table = _burocratese()
    folded = fold(text)
    last_end = 0
    for word in starts.finditer(folded):
        start = word.start()
        if start < last_end:
            continue
        match = by_char[folded[start]].match(folded, start)
        if match is None:
            continue
        assert match.lastgroup is not None
        last_end = match.end()
        yield start, last_end, table[int(match.lastgroup[1:])]


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
                message += " (" + _(expr.note) + ")"
            yield Hit(message, line, column, expr.plain or None, span=end - start)


# -- shouting ------------------------------------------------------------------------------------


_TWO_CAPITALS = re.compile(r"[A-ZÀ-ÖØ-Þ]{2}")


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
        if not _TWO_CAPITALS.search(text):
            continue  # no capitals side by side: nothing can shout (the common case, cheaply)
        for offset, sentence in sentences(text):
            if not _TWO_CAPITALS.search(sentence):
                continue
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
