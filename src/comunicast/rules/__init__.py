"""The rules of SPEC §4: `check_draft` runs the offline ones on one draft.

Rules register themselves in `engine.RULES` when their family module is imported below.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

# Imported for their side effect: each family module registers its rules.
from comunicast.rules import format as _format  # noqa: F401
from comunicast.rules import length, links, media, meta, privacy, schedule, style  # noqa: F401
from comunicast.rules.engine import (
    RULES,
    Context,
    Finding,
    Rule,
    Severity,
    has_errors,
    run_rules,
    settings,
    sort_key,
)
from comunicast.rules.meta import findings_from_error

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.drafts import Draft

__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "Severity",
    "check_draft",
    "findings_from_error",
    "has_errors",
    "settings",
    "sort_key",
]


def check_draft(
    draft: Draft,
    config: Config,
    *,
    now: datetime | None = None,
    published: bool = False,
    errors_only: bool = False,
) -> list[Finding]:
    """Every offline finding for `draft`, sorted by place; `published` comes from the ledger.

    `errors_only` runs only the rules configured as errors (all that `publish` needs to know,
    and much cheaper than the style rules).
    """
    chosen = settings(config)
    if errors_only:
        chosen = {k: v for k, v in chosen.items() if v.severity is Severity.ERROR}
    when = now if now is not None else datetime.now(config.tz)
    ctx = Context(draft, config, when, published=published)
    return sorted(run_rules(ctx, chosen), key=sort_key)


def check_drafts(
    drafts: Iterable[Draft],
    config: Config,
    *,
    now: datetime | None = None,
    published: frozenset[str] = frozenset(),
) -> list[tuple[Draft, list[Finding]]]:
    """`check_draft` over several drafts; `published` holds the ids the ledger knows as sent."""
    when = now if now is not None else datetime.now(config.tz)
    return [(d, check_draft(d, config, now=when, published=d.id in published)) for d in drafts]
