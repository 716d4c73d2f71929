"""The current time, injectable for tests and dry runs through COMUNICAST_NOW."""

from __future__ import annotations

import os
from datetime import datetime, tzinfo

from comunicast.errors import UsageError
from comunicast.i18n import _


def now(tz: tzinfo) -> datetime:
    """Now in `tz`, or COMUNICAST_NOW (ISO 8601; naive means `tz`) when set."""
    fixed = os.environ.get("COMUNICAST_NOW")
    if fixed:
        try:
            value = datetime.fromisoformat(fixed)
        except ValueError:
            raise UsageError(
                _("COMUNICAST_NOW={value} is not an ISO date-time").format(value=fixed)
            ) from None
        return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
    return datetime.now(tz)
