"""What `publish --due` says again, and when: cron mails what changed, not the same lines.

cron mails whatever a job prints, so a run every five minutes that repeats "this draft has an
error" sends a mail every five minutes. A problem `publish --due` finds is a *notice*:

- `draft-error`: a draft that cannot be read (subject: its path);
- `refused`: a draft that is due but refused (errors found by check, a sender's configuration,
  a missing approval…; subject: its id).

Its fingerprint is a hash of the draft file's bytes and of what is said about it. A notice is
said when it is new or its fingerprint changed (the draft was edited, the reason is another);
a refusal is also said again once `remind_after` seconds have passed since it was last said, so
that a due draft is not forgotten. Notices that are no longer true are forgotten, so a problem
that comes back is news again. The exit code is not this module's business: it stays honest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from comunicast.ledger import Ledger

Kind = Literal["draft-error", "refused"]
Why = Literal["new", "changed", "reminder"]
#: Kinds that are said again after `remind_after` even when nothing changed.
REMINDED: frozenset[str] = frozenset({"refused"})


@dataclass(frozen=True)
class Notice:
    """One problem as `publish --due` would report it."""

    kind: Kind
    subject: str
    fingerprint: str


@dataclass(frozen=True)
class Said:
    """A notice to say in this run, why, and since when it has been reported (a timestamp)."""

    why: Why
    first_at: float


def fingerprint(path: Path | None, said: Iterable[str]) -> str:
    """A versioned hash of the file at `path` (if readable) and of the lines said about it."""
    digest = hashlib.sha256(b"comunicast-notice-v1\0")
    if path is not None:
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\0unreadable")
    for line in sorted(said):
        digest.update(b"\0" + line.encode("utf-8", "replace"))
    return "sha256:" + digest.hexdigest()


def to_say(ledger: Ledger, notices: Iterable[Notice], *, now: float,
           remind_after: float) -> dict[tuple[str, str], Said]:
    """Decide which of `notices` this run says (by (kind, subject)), and remember it.

    `remind_after` is in seconds; 0 says every refusal at every run (the behaviour before
    notices were remembered).
    """
    current = list(notices)
    known = ledger.notices()
    said: dict[tuple[str, str], Said] = {}
    for notice in current:
        key = (notice.kind, notice.subject)
        before = known.get(key)
        if before is None:
            said[key] = Said("new", now)
            continue
        last_fingerprint, first_at, reported_at = before
        if last_fingerprint != notice.fingerprint:
            said[key] = Said("changed", first_at)
        elif notice.kind in REMINDED and now - reported_at >= remind_after:
            said[key] = Said("reminder", first_at)
    ledger.notices_update(
        [(n.kind, n.subject, n.fingerprint) for n in current if (n.kind, n.subject) in said],
        keep=[(n.kind, n.subject) for n in current], at=now)
    return said
