"""Meta rules: required fields and senders; turning load problems into findings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from comunicast.errors import DraftError
from comunicast.i18n import _
from comunicast.rules.engine import Context, Finding, Hit, Option, Severity, declare, rule


@rule("meta.required", Severity.ERROR,
      _("a required field for the kind is missing or invalid"))
def _required(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    names = ctx.draft.senders if ctx.draft.senders is not None else ctx.config.sender_names
    known = list(ctx.config.senders)
    for name in names:
        if name not in ctx.config.senders:
            line, column = ctx.field_place("senders")
            yield Hit(
                _("sender '{name}' is not configured (configured: {known}): fix the name or add "
                  "it under senders: in comunicast.yaml").format(
                    name=name, known=", ".join(known) or "-"),
                line, column,
            )
    if not names:
        line, column = ctx.field_place("senders")
        yield Hit(_("no senders: name at least one in `senders:`, or remove the field to use "
                    "default_senders"), line, column)


#: Sentences of the `comunicast new` templates (templates/new/) that only make sense unedited.
_TEMPLATE_TEXT = re.compile(
    r"^[ \t]*Scrivi qui\b|incolla il link alla pagina del sito del Comune", re.MULTILINE
)


@rule("meta.template", Severity.ERROR,
      _("the body still holds the instructions of the `comunicast new` template"))
def _template(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    for match in _TEMPLATE_TEXT.finditer(ctx.draft.body):
        start = match.start() + len(match.group()) - len(match.group().lstrip(" \t"))
        line, column = ctx.body_place(start)
        yield Hit(
            _("'{text}…' is the template's instruction, not the message: write the message "
              "in its place").format(text=match.group().strip()),
            line, column, span=len(match.group().strip()),
        )


declare("links.broken", Severity.ERROR,
        _("--online: 4xx/5xx, DNS failure, TLS failure, timeout"),
        options={
            "timeout": Option((int, float), 10.0, _("seconds to wait for an answer"), minimum=0.1),
            "per_host": Option(int, 4, _("requests at once to one host"), minimum=1),
            "concurrency": Option(int, 40, _("requests at once in all"), minimum=1),
            "ttl": Option((int, float), 86400, _("seconds a result stays cached"), minimum=0),
        },
        online=True)
declare("links.redirect", Severity.WARNING, _("--online: redirect to another domain"), online=True)


def findings_from_error(error: DraftError) -> list[Finding]:
    """The problems of a draft that could not be loaded, as error findings."""
    return [
        Finding(p.rule or "draft.syntax", Severity.ERROR,
                p.message + (f" ({p.hint})" if p.hint else ""), p.line, p.column)
        for p in error.problems
    ]
