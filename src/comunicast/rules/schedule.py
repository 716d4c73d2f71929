"""Schedule rules, in the configured time zone, against an injectable "now"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

from comunicast.i18n import _, format_date, format_datetime
from comunicast.rules.engine import Context, Hit, Severity, rule


def deadline_at(ctx: Context) -> datetime | None:
    """The draft's deadline as an aware datetime (a date means the end of that day)."""
    deadline = ctx.draft.deadline
    if deadline is None:
        return None
    if isinstance(deadline, datetime):
        return deadline if deadline.tzinfo else deadline.replace(tzinfo=ctx.config.tz)
    assert isinstance(deadline, date)
    return datetime.combine(deadline, time(23, 59, 59), tzinfo=ctx.config.tz)


def _show(when: datetime, ctx: Context) -> str:
    return format_datetime(when.astimezone(ctx.config.tz))


def _show_deadline(deadline: datetime, ctx: Context) -> str:
    # A deadline written as a date is the whole day: show the day, not 23:59.
    if not isinstance(ctx.draft.deadline, datetime):
        return format_date(deadline.date())
    return _show(deadline, ctx)


@rule("schedule.past", Severity.WARNING,
      _("publish_at in the past on a draft not yet published"), volatile=True)
def _past(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    when = ctx.draft.publish_at
    if when is None or ctx.published or when >= ctx.now:
        return
    line, column = ctx.field_place("publish_at")
    yield Hit(
        _("publish_at {when} is already past and the draft is not published: the next "
          "`publish --due` sends it at once; set the time you mean").format(when=_show(when, ctx)),
        line, column,
    )


@rule("schedule.after-deadline", Severity.ERROR,
      _("publish_at after the deadline / event start"))
def _after_deadline(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    when = ctx.draft.publish_at
    if when is None:
        return
    line, column = ctx.field_place("publish_at")
    deadline = deadline_at(ctx)
    if deadline is not None and when > deadline:
        yield Hit(
            _("publish_at {when} is after the deadline {deadline}: nobody could act on it; "
              "publish earlier").format(when=_show(when, ctx), deadline=_show_deadline(deadline, ctx)),
            line, column,
        )
    starts = ctx.draft.starts_at
    if starts is not None and when > starts:
        yield Hit(
            _("publish_at {when} is after the event starts ({starts}): publish before "
              "it").format(when=_show(when, ctx), starts=_show(starts, ctx)),
            line, column,
        )


@rule("schedule.expired", Severity.WARNING,
      _("deadline, ends_at or expires_at already passed"), volatile=True)
def _expired(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    if ctx.published:
        return  # old, published drafts stay in messages/ as a record; nothing to fix
    checks = (
        ("deadline", deadline_at(ctx), _("the deadline {when} has passed: the message is out "
                                         "of date; update or remove it")),
        ("ends_at", ctx.draft.ends_at, _("the event ended on {when}: the message is out of "
                                         "date; update or remove it")),
        ("expires_at", ctx.draft.expires_at, _("expires_at {when} has passed: `publish --due` "
                                               "will no longer send it")),
    )
    for name, when, message in checks:
        if when is not None and when < ctx.now:
            line, column = ctx.field_place(name)
            shown = _show_deadline(when, ctx) if name == "deadline" else _show(when, ctx)
            yield Hit(message.format(when=shown), line, column)
