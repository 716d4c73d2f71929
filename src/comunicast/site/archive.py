"""The archive as the site shows it: one message per draft, with the text citizens received.

`current_messages` is the one place that decides what a message's current text is and which
earlier texts it had; corrections and withdrawals (SPEC §10) plug in there.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.ledger import Ledger
    from comunicast.ledger_actions import Action
    from comunicast.ledger_archive import ArchivedPublication, ArchiveEntry

#: An emergency with no `expires_at` or `ends_at` stays on top of the index this long.
EMERGENCY_IN_FORCE = timedelta(hours=24)
#: Targets whose text the site prefers, best first: WhatsApp markup keeps bold and lists.
_TARGET_PREFERENCE = ("whatsapp", "plain", "telegram")


@dataclass(frozen=True)
class EarlierText:
    """A text the message had before its current one (a republished or corrected revision)."""

    at: datetime
    text: str
    markup: bool


@dataclass(frozen=True)
class SiteMessage:
    """One published message (a draft), as the archive shows it."""

    draft_id: str
    title: str
    kind: str
    #: When it was first sent (its date on the site), and when its current text was sent.
    published_at: datetime
    updated_at: datetime
    #: The current text as sent (None: not kept, published before the archive existed).
    text: str | None
    #: True when `text` is WhatsApp markup, False for plain text.
    markup: bool
    links: tuple[str, ...] = ()
    image_sha256: str | None = None
    image_type: str | None = None
    image_alt: str | None = None
    deadline: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    expires_at: str | None = None
    where: str | None = None
    earlier: tuple[EarlierText, ...] = field(default=())

    def in_force(self, now: datetime) -> bool:
        """An emergency whose `expires_at` / `ends_at` (or a day after sending) is still ahead."""
        until = self.in_force_until()
        return until is not None and until > now

    def in_force_until(self) -> datetime | None:
        """When an emergency leaves the top of the index: its `expires_at`, else its `ends_at`,
        else a day after it was sent. None for every other kind."""
        if self.kind != "emergenza":
            return None
        for value in (self.expires_at, self.ends_at):
            end = _parse(value)
            if end is not None:
                return end
        return self.published_at + EMERGENCY_IN_FORCE


def current_messages(ledger: Ledger, drafts: Collection[str] | None = None) -> list[SiteMessage]:
    """Every published message (or those of `drafts`), newest first (by first publication,
    then draft id).

    A publication written to an outbox that waits for a person to paste it (`confirm: true`)
    counts once it is confirmed. The current text is that of the latest sent revision, from the
    target the site reads best; earlier revisions of that target with another text are listed.

    Corrections (SPEC §10): each done edit of a publication counts as a version of it, dated
    when the edit was made, so the latest edit's text is the current one and the texts it
    replaced are the corrections history. A withdrawn publication is left out; a message whose
    every publication was withdrawn leaves the site.
    """
    by_publication: dict[int, list[Action]] = defaultdict(list)
    for action in ledger.actions():
        if action.state == "done":
            by_publication[action.publication_id].append(action)
    by_draft: dict[str, list[ArchivedPublication]] = defaultdict(list)
    for pub in ledger.archived(drafts):
        if not pub.to_paste:
            versions = _versions(pub, by_publication.get(pub.publication_id, []))
            by_draft[pub.draft_id].extend(versions)
    # A draft whose every publication was withdrawn has no version left: it is not listed.
    messages = [_message(draft_id, pubs) for draft_id, pubs in by_draft.items() if pubs]
    messages.sort(key=lambda m: m.draft_id)
    messages.sort(key=lambda m: m.published_at, reverse=True)
    return messages


def fingerprints(ledger: Ledger) -> dict[str, str]:
    """For each draft with a sent publication, a digest of every ledger value that its message
    (`current_messages`) is made from, or that changes whenever one of them does.

    Those are its sent publications (id, send and claim times, the paste flag), their archive
    rows (rewritten only by `ArchiveStore._archive`, which stamps `archived_at`) and the actions
    on them (state and times: an edit's text is written once, with its claim). A few short
    columns of every row: a build reads them all, and reads the texts only of the drafts whose
    digest changed since the previous build (`site.build`).
    """
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for draft_id, *values in ledger.archive_marks():
        rows[draft_id].append(tuple(values))
    return {draft_id: hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()
            for draft_id, values in rows.items()}


def _versions(pub: ArchivedPublication, actions: list[Action]) -> list[ArchivedPublication]:
    """The publication as first sent and after each done edit; none once it is withdrawn.

    Only actions taken since it was (last) sent count: a publication sent again after a
    withdrawal (`--republish`) is a new message, as in `corrections.message_state`.
    """
    from dataclasses import replace

    since = pub.sent_at
    versions = [pub]
    for action in actions:
        at = action.done_at or action.updated_at
        if action.claimed_at < since and at < since:
            continue
        if action.action == "withdraw":
            return []
        if action.text is None and action.plain is None:
            continue
        versions.append(replace(pub, revision=action.revision, sent_at=at, text=action.text,
                                plain=action.plain))
    return versions


def _message(draft_id: str, pubs: list[ArchivedPublication]) -> SiteMessage:
    known = [p for p in pubs if p.text is not None] or pubs

    def rank(p: ArchivedPublication) -> tuple[datetime, int]:
        target = p.target or ""
        pref = _TARGET_PREFERENCE.index(target) if target in _TARGET_PREFERENCE else 9
        return (p.sent_at, -pref)

    current = max(known, key=rank)
    text, markup = _text_of(current)
    earlier: list[EarlierText] = []
    seen = {text}
    for pub in sorted(known, key=lambda p: p.sent_at, reverse=True) if len(known) > 1 else ():
        if pub.target != current.target or pub is current:
            continue
        old, old_markup = _text_of(pub)
        if old is not None and old not in seen:
            seen.add(old)
            earlier.append(EarlierText(pub.sent_at, old, old_markup))
    return SiteMessage(
        draft_id=draft_id,
        title=current.title or draft_id,
        kind=current.kind or "",
        published_at=min(p.sent_at for p in pubs),
        updated_at=current.sent_at,
        text=text,
        markup=markup,
        links=tuple(current.links),
        image_sha256=current.image_sha256,
        image_type=current.image_type,
        image_alt=current.image_alt,
        deadline=current.deadline,
        starts_at=current.starts_at,
        ends_at=current.ends_at,
        expires_at=current.expires_at,
        where=current.where,
        earlier=tuple(earlier),
    )


def _text_of(pub: ArchivedPublication) -> tuple[str | None, bool]:
    if pub.target == "whatsapp" and pub.text is not None:
        return pub.text, True
    # Telegram's text is HTML for the Bot API: the plain rendering reads the same.
    return (pub.plain if pub.plain is not None else pub.text), False


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # Drafts' datetimes are kept with their offset; a bare date (only `deadline`) ends nothing.
    return parsed if parsed.tzinfo is not None else None


# -- upgrade: publications sent before the archive existed -----------------------------------


def backfill(ledger: Ledger, config: Config) -> int:
    """Archive publications sent before migration 0005; return how many rows were added.

    Where the draft on disk still renders to the revision that was sent, its text is exactly
    the one sent and is kept (origin `draft`). Otherwise only what the ledger knew is kept
    (origin `unknown`: the site lists the message with its date and no text), so the drafts
    are read once, at the first `site` build after the upgrade.
    """
    from comunicast.ledger_archive import ArchiveEntry

    missing = ledger.unarchived_sent()
    if not missing:
        return 0
    drafts = _drafts_by_id(config)
    entries: list[tuple[int, ArchiveEntry]] = []
    for pub_id, draft_id, sender, revision, _sent_at in missing:
        entry = _from_draft(config, drafts.get(draft_id), sender, revision)
        entries.append((pub_id, entry or ArchiveEntry(origin="unknown", title=None)))
    ledger.archive_put_many(entries)
    return len(entries)


def _drafts_by_id(config: Config) -> dict[str, object]:
    from comunicast.drafts import load_drafts

    if not config.messages_dir.is_dir():
        return {}
    found = load_drafts([config.messages_dir], config.tz)
    return {d.id: d for d in found.drafts}


def _from_draft(config: Config, draft: object, sender: str, revision: str) -> ArchiveEntry | None:
    """The entry of `draft` for `sender` if it renders to `revision` now, else None."""
    from dataclasses import replace

    from comunicast.drafts import Draft
    from comunicast.publish import archive_entry, plan

    if not isinstance(draft, Draft) or sender not in config.senders:
        return None
    try:
        planned = plan(config, [draft], now=datetime.now(config.tz), to=[sender])
    except Exception:  # noqa: BLE001 - a draft or sender that no longer works: nothing known
        return None
    for item in planned.items:
        if item.message.revision == revision:
            return replace(archive_entry(item), origin="draft")
    return None
