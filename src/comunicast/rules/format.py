"""Format rules: Markdown the targets cannot show, and emphasis that will not look as meant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from comunicast.i18n import _
from comunicast.rules.engine import Context, Hit, Severity, rule


def _what(kind: str) -> str:
    # Translated when used, not at import time (the language is set after the config is read).
    names = {
        "heading": _("a heading"),
        "table": _("a table"),
        "html": _("raw HTML"),
        "image": _("an inline image"),
    }
    return names.get(kind, kind)


@rule("format.unsupported", Severity.ERROR,
      _("headings, tables, raw HTML, inline images"))
def _unsupported(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    for construct in ctx.facts.unsupported:
        line, column = ctx.draft.body_place(construct.line, construct.column)
        what = _what(construct.kind)
        if construct.kind == "image":
            advice = _("attach one image with the `image:` field instead")
        elif construct.kind == "heading":
            advice = _("write it as a bold line (**…**)")
        elif construct.kind == "table":
            advice = _("write the rows as a list")
        else:
            advice = _("remove the HTML and use Markdown (**bold**, lists, links)")
        yield Hit(
            _("{what} cannot be shown on WhatsApp or Telegram: {advice}").format(
                what=what, advice=advice),
            line, column, span=max(len(construct.snippet.split("\n")[0]), 1),
        )


@rule("format.emphasis", Severity.INFO,
      _("*word* in Markdown is italic; WhatsApp users often mean bold"))
def _emphasis(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    for emphasis in ctx.facts.emphasis:
        line, column = ctx.draft.body_place(emphasis.line, emphasis.column)
        text = emphasis.text
        yield Hit(
            _("*{text}* is italic in Markdown (on WhatsApp *…* is bold): write **{text}** for "
              "bold, or _{text}_ to keep italic and silence this").format(text=text),
            line, column, f"**{text}**", span=len(text) + 2,
        )
