"""Length rules: the rendered text against each target's limit and the office's own limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from comunicast.i18n import _, format_number
from comunicast.rules.engine import Context, Hit, Option, Severity, rule


@rule(
    "length.text",
    Severity.ERROR,
    _("rendered text over the target's limit (4096, or 1024 as an image caption), or over "
      "max_chars; a warning over warn_chars"),
    options={
        "max_chars": Option(int, 1000, _("most characters of the plain text"), minimum=1),
        "warn_chars": Option(int, 600, _("warn above this many characters"), minimum=1),
    },
)
def _text(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    from comunicast.compose import limit_for, rendered_text
    from comunicast.render import text_length

    line, column = ctx.body_place(0)
    has_image = ctx.draft.image is not None
    seen: set[tuple[str, int]] = set()
    for limits in ctx.sender_limits.values():
        limit = limit_for(limits, has_image)
        if (limits.target, limit) in seen:
            continue
        seen.add((limits.target, limit))
        length = text_length(rendered_text(ctx.draft, ctx.config, limits.target), limits.target)
        if length > limit:
            what = _("an image caption") if limit == limits.max_caption and has_image else _("a text")
            yield Hit(
                _("{length} characters on {target}, over its limit of {limit} for {what}: "
                  "shorten the text by {over} characters").format(
                    length=format_number(length), target=limits.target,
                    limit=format_number(limit), what=what, over=format_number(length - limit)),
                line, column,
            )
    plain = text_length(rendered_text(ctx.draft, ctx.config, "plain"), "plain")
    if plain > opts["max_chars"]:
        yield Hit(
            _("{length} characters, over the {max} this office allows (max_chars): keep the "
              "essential facts and link the page with the details").format(
                length=format_number(plain), max=format_number(opts["max_chars"])),
            line, column,
        )
    elif plain > opts["warn_chars"]:
        yield Hit(
            _("{length} characters, over {warn} (warn_chars): short messages are read to the "
              "end; consider cutting").format(length=format_number(plain),
                                               warn=format_number(opts["warn_chars"])),
            line, column, cap=Severity.WARNING,
        )


@rule(
    "length.title",
    Severity.WARNING,
    _("title over 65 characters"),
    options={"max": Option(int, 65, _("most characters of the title"), minimum=1)},
)
def _title(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    length = len(ctx.draft.title)
    if length > opts["max"]:
        line, column = ctx.title_place(0)
        yield Hit(
            _("title of {length} characters, over {max}: a title that fits one line of a phone "
              "is read; cut it to the news").format(length=length, max=opts["max"]),
            line, column, span=length,
        )
