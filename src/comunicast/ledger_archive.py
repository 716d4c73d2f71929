"""The ledger's archive of what was sent (migration 0005): texts per publication, image blobs.

Kept apart from `ledger.py` so the claim/record core stays small; `Ledger` inherits these
methods. Every query is portable SQL (`?` placeholders, `ON CONFLICT`), so the same methods run
on the PostgreSQL engine.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

#: Where an archive row came from: written with the claim by `publish`; rebuilt after the
#: upgrade from a draft whose revision still matched; or only what the ledger knew.
Origin = Literal["publish", "draft", "unknown"]


@dataclass(frozen=True)
class ArchiveEntry:
    """What one publication showed its audience, as the archive keeps it."""

    origin: Origin
    target: str | None = None
    title: str | None = None
    kind: str | None = None
    text: str | None = None
    plain: str | None = None
    links: list[str] = field(default_factory=list)
    #: Dates as the draft gave them (ISO 8601; a bare date stays a date).
    publish_at: str | None = None
    deadline: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    expires_at: str | None = None
    where: str | None = None
    image: bytes | None = field(default=None, repr=False)
    image_type: str | None = None
    image_alt: str | None = None


@dataclass(frozen=True)
class ArchivedPublication:
    """An archive row joined with its publication (for the site)."""

    publication_id: int
    draft_id: str
    sender: str
    revision: str
    sent_at: datetime
    to_paste: bool
    origin: Origin
    target: str | None
    title: str | None
    kind: str | None
    text: str | None
    plain: str | None
    links: list[str]
    publish_at: str | None
    deadline: str | None
    starts_at: str | None
    ends_at: str | None
    expires_at: str | None
    where: str | None
    image_sha256: str | None
    image_type: str | None
    image_alt: str | None


#: Drafts named in one `IN (…)` of `archived` (well under SQLite's and PostgreSQL's limits).
_IN_CHUNK = 500

_COLUMNS = (
    "origin, target, title, kind, text, plain, links, publish_at, deadline, starts_at, ends_at,"
    " expires_at, place, image_sha256, image_type, image_alt, archived_at"
)


class ArchiveStore:
    """Archive methods of `Ledger` (which provides `conn` and `transaction`)."""

    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:  # pragma: no cover
        raise NotImplementedError

    def _archive(self, conn: sqlite3.Connection, publication_id: int, entry: ArchiveEntry) -> None:
        """Keep `entry` for a publication, inside the caller's transaction."""
        digest = None
        if entry.image is not None:
            digest = hashlib.sha256(entry.image).hexdigest()
            # Look first: an image already kept is not written again (claims stay cheap).
            if conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (digest,)).fetchone() is None:
                conn.execute(
                    "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?)"
                    " ON CONFLICT (sha256) DO NOTHING",
                    (digest, len(entry.image), entry.image),
                )
        values = (
            entry.origin, entry.target, entry.title, entry.kind, entry.text, entry.plain,
            json.dumps(entry.links, ensure_ascii=False), entry.publish_at, entry.deadline,
            entry.starts_at, entry.ends_at, entry.expires_at, entry.where, digest,
            entry.image_type if digest else None, entry.image_alt if digest else None,
            time.time(),
        )
        updates = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _COLUMNS.split(","))
        conn.execute(
            f"INSERT INTO archive (publication_id, {_COLUMNS}) VALUES (?{', ?' * len(values)})"
            f" ON CONFLICT (publication_id) DO UPDATE SET {updates}",
            (publication_id, *values),
        )

    def archive_put_many(self, entries: Iterable[tuple[int, ArchiveEntry]]) -> None:
        """Keep entries for publications sent before the archive existed, in one transaction."""
        items = list(entries)
        if not items:
            return
        with self.transaction() as conn:
            for publication_id, entry in items:
                self._archive(conn, publication_id, entry)

    def unarchived_sent(self) -> list[tuple[int, str, str, str, float | None]]:
        """(id, draft_id, sender, revision, sent_at) of sent publications with no archive row."""
        rows = self.conn.execute(
            "SELECT p.id, p.draft_id, p.sender, p.revision, p.sent_at FROM publications p"
            " LEFT JOIN archive a ON a.publication_id = p.id"
            " WHERE p.state = 'sent' AND a.publication_id IS NULL ORDER BY p.id"
        ).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def archive_marks(self) -> list[tuple[Any, ...]]:
        """(draft_id, …) rows whose values change whenever what the archive shows of a draft
        can: its sent publications with their archive rows, and the actions on its publications
        (`site.archive.fingerprints`)."""
        publications = self.conn.execute(
            "SELECT p.draft_id, 'p', p.id, p.sent_at, p.claimed_at, p.to_paste, a.archived_at"
            " FROM publications p JOIN archive a ON a.publication_id = p.id"
            " WHERE p.state = 'sent' ORDER BY p.id"
        ).fetchall()
        actions = self.conn.execute(
            "SELECT p.draft_id, 'a', x.id, x.publication_id, x.state, x.claimed_at, x.done_at,"
            " x.updated_at FROM actions x JOIN publications p ON p.id = x.publication_id"
            " ORDER BY x.id"
        ).fetchall()
        return [tuple(row) for row in (*publications, *actions)]

    def archived(self, drafts: Collection[str] | None = None) -> Iterator[ArchivedPublication]:
        """Every sent publication that has an archive row (of `drafts` only, if given), oldest
        first within each draft."""
        if drafts is None:
            yield from self._archived("", ())
            return
        wanted = sorted(set(drafts))
        for start in range(0, len(wanted), _IN_CHUNK):  # a draft's rows all in one query
            chunk = wanted[start : start + _IN_CHUNK]
            yield from self._archived(
                f" AND p.draft_id IN ({', '.join('?' * len(chunk))})", tuple(chunk))

    def _archived(self, where: str, args: tuple[str, ...]) -> Iterator[ArchivedPublication]:
        # Columns by position, unpacked: the site reads every row of the archive on a first
        # build.
        rows = self.conn.execute(
            "SELECT p.id, p.draft_id, p.sender, p.revision, p.sent_at, p.claimed_at,"
            " p.to_paste, a.origin, a.target, a.title, a.kind, a.text, a.plain, a.links,"
            " a.publish_at, a.deadline, a.starts_at, a.ends_at, a.expires_at, a.place,"
            " a.image_sha256, a.image_type, a.image_alt FROM publications p"
            " JOIN archive a ON a.publication_id = p.id"
            f" WHERE p.state = 'sent'{where} ORDER BY p.sent_at, p.id",
            args,
        )
        links_of: dict[str, list[str]] = {}
        stamp = datetime.fromtimestamp
        for (pid, draft_id, sender, revision, sent_at, claimed_at, to_paste, origin, target,
             title, kind, text, plain, links, publish_at, deadline, starts_at, ends_at,
             expires_at, place, image_sha256, image_type, image_alt) in rows:
            if links and links not in links_of:
                links_of[links] = json.loads(links)
            yield ArchivedPublication(
                pid, draft_id, sender, revision, stamp(sent_at or claimed_at, UTC),
                bool(to_paste), origin, target, title, kind, text, plain,
                # A copy: the same links are shared by many rows, and callers may keep them.
                list(links_of[links]) if links else [],
                publish_at, deadline, starts_at, ends_at, expires_at, place, image_sha256,
                image_type, image_alt,
            )

    def blob(self, sha256: str) -> bytes | None:
        """The bytes kept under `sha256`, or None."""
        row = self.conn.execute("SELECT data FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
        return bytes(row[0]) if row is not None else None

    def mark_pasted(self, publication_id: int, note: str | None = None) -> None:
        """A person says the outbox publication was pasted into the channel (`resolve --as sent`).

        A publication waiting for that confirmation (`to_paste`) counts as sent from now on.
        """
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                "UPDATE publications SET pasted_at = ?, updated_at = ?, resolved_as = 'sent',"
                " sent_at = CASE WHEN to_paste = 1 THEN ? ELSE sent_at END, to_paste = 0"
                " WHERE id = ?",
                (now, now, now, publication_id),
            )
            conn.execute(
                "INSERT INTO events (publication_id, at, event, detail) VALUES (?, ?, ?, ?)",
                (publication_id, now, "pasted", note),
            )

    def unpaste(self, publication_id: int, note: str | None = None) -> None:
        """A person says a publication waiting to be pasted will not be: it becomes `failed`."""
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                "UPDATE publications SET state = 'failed', to_paste = 0, updated_at = ?,"
                " resolved_as = 'failed', sent_at = NULL WHERE id = ?",
                (now, publication_id),
            )
            conn.execute(
                "INSERT INTO events (publication_id, at, event, detail) VALUES (?, ?, ?, ?)",
                (publication_id, now, "resolved", note or "failed"),
            )


def iso_or_none(value: Any) -> str | None:
    """A draft's date or datetime as ISO 8601 text."""
    return value.isoformat() if value is not None else None
