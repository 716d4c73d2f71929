"""The ledger: what was published where, every attempt, and the check caches.

One row per publication revision, keyed by (draft id, sender, revision). A claim is committed to
disk before any network call, and the outcome after it (SPEC §5). Migrations are append-only and
named; each runs in one transaction together with its row in `migrations`. The same SQL runs on
SQLite and on PostgreSQL (SPEC §11): engine specifics live in `ledger_sqlite` / `ledger_postgres`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, Self, cast

from comunicast.errors import ConfigError
from comunicast.i18n import _
from comunicast.ledger_actions import MIGRATION_0006, ActionsLedger
from comunicast.ledger_archive import ArchiveEntry, ArchiveStore
from comunicast.state import LedgerLocation, PostgresLocation

State = Literal["sending", "sent", "failed", "unknown"]
STATES: tuple[State, ...] = ("sending", "sent", "failed", "unknown")
BUSY_TIMEOUT_MS = 30_000


class PublicationLockLike(Protocol):
    """A publication's lock: `comunicast.locks.PublicationLock` or a PostgreSQL session lock."""

    @property
    def held(self) -> bool: ...
    def acquire(self) -> bool: ...
    def release(self) -> None: ...


class Engine(Protocol):
    """What differs between SQLite and PostgreSQL (see `comunicast.ledger_sqlite`)."""

    name: str

    def transaction(self) -> AbstractContextManager[None]: ...
    def ddl(self, statement: str) -> str: ...
    def ensure_schema(self) -> None: ...
    def tables(self) -> set[str]: ...
    def after_copy(self, table: str, key: str) -> None: ...
    def publication_lock(self, draft_id: str, sender: str) -> PublicationLockLike: ...
    def lock_is_held(self, draft_id: str, sender: str) -> bool: ...
    def close(self) -> None: ...


#: Append-only: never edit or reorder an entry once released; add a new one instead.
MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "0001_publications",
        [
            """CREATE TABLE publications (
                id INTEGER PRIMARY KEY,
                draft_id TEXT NOT NULL,
                sender TEXT NOT NULL,
                revision TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'unknown')),
                attempts INTEGER NOT NULL DEFAULT 0,
                remote_id TEXT,
                claimed_at REAL NOT NULL,
                sent_at REAL,
                updated_at REAL NOT NULL,
                last_error TEXT,
                run_token TEXT,
                pid INTEGER,
                resolved_as TEXT,
                UNIQUE (draft_id, sender, revision)
            )""",
            "CREATE INDEX publications_key ON publications (draft_id, sender)",
            """CREATE TABLE events (
                id INTEGER PRIMARY KEY,
                publication_id INTEGER NOT NULL REFERENCES publications (id),
                at REAL NOT NULL,
                event TEXT NOT NULL,
                detail TEXT
            )""",
            "CREATE INDEX events_publication ON events (publication_id)",
        ],
    ),
    (
        "0002_link_cache",
        [
            """CREATE TABLE link_cache (
                url TEXT PRIMARY KEY,
                checked_at REAL NOT NULL,
                status INTEGER,
                final_url TEXT,
                error TEXT
            )""",
        ],
    ),
    (
        "0003_check_cache",
        [
            # Findings of unchanged drafts (comunicast.rules.cache): disposable, keyed by a
            # hash of everything they depend on.
            """CREATE TABLE check_cache (
                key TEXT PRIMARY KEY,
                used_at REAL NOT NULL,
                data TEXT NOT NULL
            )""",
        ],
    ),
    (
        "0004_approvals",
        [
            # Which approvals each publication went out under (SPEC §8), one row per approver.
            """CREATE TABLE publication_approvals (
                id INTEGER PRIMARY KEY,
                publication_id INTEGER NOT NULL REFERENCES publications (id),
                content_revision TEXT NOT NULL,
                approver TEXT NOT NULL,
                approval_file TEXT NOT NULL,
                signed INTEGER NOT NULL,
                approved_at TEXT NOT NULL,
                recorded_at REAL NOT NULL,
                UNIQUE (publication_id, approver)
            )""",
            # `publish --urgent --reason`: an emergenza sent without (enough) approvals.
            """CREATE TABLE urgent_publications (
                publication_id INTEGER PRIMARY KEY REFERENCES publications (id),
                content_revision TEXT NOT NULL,
                reason TEXT NOT NULL,
                user_name TEXT NOT NULL,
                at REAL NOT NULL
            )""",
            # Signatures `ssh-keygen -Y verify` already judged, for the listings (`approvals`,
            # `check`) only: `publish` always asks ssh-keygen. Disposable.
            """CREATE TABLE approval_checks (
                key TEXT PRIMARY KEY,
                ok INTEGER NOT NULL,
                checked_at REAL NOT NULL
            )""",
        ],
    ),
    (
        "0005_archive",
        [
            # What was sent, kept for the archive site (SPEC §9) even after the draft or its
            # image changes: one row per publication, written with its claim. Image bytes are
            # content-addressed in `blobs`, so one image sent to three senders is kept once.
            """CREATE TABLE blobs (
                sha256 TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                data BLOB NOT NULL
            )""",
            """CREATE TABLE archive (
                publication_id INTEGER PRIMARY KEY REFERENCES publications (id),
                origin TEXT NOT NULL,
                target TEXT,
                title TEXT,
                kind TEXT,
                text TEXT,
                plain TEXT,
                links TEXT,
                publish_at TEXT,
                deadline TEXT,
                starts_at TEXT,
                ends_at TEXT,
                expires_at TEXT,
                place TEXT,
                image_sha256 TEXT REFERENCES blobs (sha256),
                image_type TEXT,
                image_alt TEXT,
                archived_at REAL NOT NULL
            )""",
            # A publication to an outbox with `confirm: true` waits for a person to paste it;
            # `pasted_at` records when someone said it was pasted (`resolve --as sent`).
            "ALTER TABLE publications ADD COLUMN to_paste INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE publications ADD COLUMN pasted_at REAL",
        ],
    ),
    # Corrections and withdrawals (SPEC §10): `actions`, and `payloads` (what each publication
    # carried, so an edit can tell a changed image). SQL in comunicast.ledger_actions.
    MIGRATION_0006,
    (
        "0007_notices",
        [
            # What `publish --due` last said about a problem (comunicast.notices): cron mails
            # what is new, not the same lines every five minutes.
            """CREATE TABLE notices (
                kind TEXT NOT NULL,
                subject TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                first_at REAL NOT NULL,
                reported_at REAL NOT NULL,
                PRIMARY KEY (kind, subject)
            )""",
        ],
    ),
]


#: Statements of a migration that must differ on one engine: {engine: {migration: statements}}.
#: Most need none: `Engine.ddl` translates SQLite's types (INTEGER, REAL, BLOB) for PostgreSQL.
ENGINE_MIGRATIONS: dict[str, dict[str, list[str]]] = {}

#: Every table `comunicast ledger copy` copies, parents before children, with the column(s)
#: that identify a row in both ledgers, and what a row already there with other values means:
#: "record" rows must match (else the copy refuses the target), "cache" rows are kept as they
#: are in the target. Add each table you create here, next to its migration.
COPY_TABLES: list[tuple[str, tuple[str, ...], Literal["record", "cache"]]] = [
    ("publications", ("id",), "record"),
    ("events", ("id",), "record"),
    ("link_cache", ("url",), "cache"),
    ("check_cache", ("key",), "cache"),
    ("publication_approvals", ("id",), "record"),
    ("urgent_publications", ("publication_id",), "record"),
    ("approval_checks", ("key",), "cache"),
    ("notices", ("kind", "subject"), "cache"),
    ("actions", ("id",), "record"),
    ("payloads", ("publication_id",), "record"),
    # The archive (0005): blobs before the archive rows that name them.
    ("blobs", ("sha256",), "record"),
    ("archive", ("publication_id",), "record"),
]

#: Tables of the archive (SPEC §9), all in COPY_TABLES.
ARCHIVE_TABLES: tuple[str, ...] = ("blobs", "archive")


@dataclass(frozen=True)
class Publication:
    """One revision of one draft for one sender, as the ledger records it."""

    id: int
    draft_id: str
    sender: str
    revision: str
    state: State
    attempts: int
    remote_id: str | None
    claimed_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    last_error: str | None
    run_token: str | None
    pid: int | None
    resolved_as: str | None
    #: Written to an outbox with `confirm: true`, not yet confirmed as pasted by a person.
    to_paste: bool = False
    pasted_at: datetime | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Publication:
        """Build from a `publications` row."""
        return cls(
            id=row["id"],
            draft_id=row["draft_id"],
            sender=row["sender"],
            revision=row["revision"],
            state=row["state"],
            attempts=row["attempts"],
            remote_id=row["remote_id"],
            claimed_at=_dt(row["claimed_at"]),
            sent_at=_dt(row["sent_at"]) if row["sent_at"] is not None else None,
            updated_at=_dt(row["updated_at"]),
            last_error=row["last_error"],
            run_token=row["run_token"],
            pid=row["pid"],
            resolved_as=row["resolved_as"],
            # A ledger opened read-only may predate migration 0005.
            to_paste=bool(_column(row, "to_paste")),
            pasted_at=_dt(pasted) if (pasted := _column(row, "pasted_at")) is not None else None,
        )


Decision = Literal["claimed", "skipped", "refused", "unknown"]


@dataclass(frozen=True)
class Claim:
    """The ledger's answer to "may I send this revision now?"."""

    decision: Decision
    publication: Publication | None
    #: The row that caused a refusal or an unknown (another revision, or an unsettled one).
    blocking: Publication | None = None


def _column(row: sqlite3.Row, name: str) -> Any:
    """A column that a ledger opened read-only before its migration may not have yet."""
    try:
        return row[name]
    except (IndexError, KeyError):
        return None


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class Ledger(ActionsLedger, ArchiveStore):
    """The ledger, on SQLite (`.comunicast/ledger.sqlite3`) or PostgreSQL (`state.url`); §10's
    actions in `ledger_actions`.

    Its methods hold the SQL, written once for both engines (`?` placeholders, `RETURNING`,
    `ON CONFLICT`); `self.engine` holds what differs: connecting, transactions, migration DDL,
    publication locks (`comunicast.ledger_sqlite`, `comunicast.ledger_postgres`). On PostgreSQL
    `self.conn` is a wrapper that answers like the `sqlite3.Connection` typed here.
    """

    def __init__(self, conn: sqlite3.Connection, path: LedgerLocation,
                 engine: Engine | None = None) -> None:
        self.conn = conn
        self.path = path
        if engine is None:
            from comunicast.ledger_sqlite import SqliteEngine

            assert isinstance(path, Path)
            engine = SqliteEngine(conn, path)
        self.engine: Engine = engine

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: LedgerLocation, *,
             migrations: Sequence[tuple[str, list[str]]] | None = None,
             busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Ledger:
        """Open (creating folders and file, or the project's schema) and apply pending
        migrations; on SQLite, switch to WAL.

        `busy_timeout_ms`: how long to wait for another process's write lock, migrations
        included (a caller to whom the ledger is optional waits less).
        """
        todo = MIGRATIONS if migrations is None else migrations
        if isinstance(path, PostgresLocation):
            from comunicast import ledger_postgres

            pg = ledger_postgres.connect(path, lock_timeout_ms=busy_timeout_ms)
            engine: Engine = ledger_postgres.PostgresEngine(pg, path)
            ledger = cls(cast(sqlite3.Connection, pg), path, engine)
            try:
                ledger.migrate(todo)
            except sqlite3.DatabaseError as exc:
                ledger.close()
                raise ConfigError(
                    _("the ledger {where} is not usable: {reason}").format(
                        where=path, reason=_one_line(str(exc))),
                    hint=_("ask the database's administrator; the ledger records what was "
                           "already published"),
                ) from None
            return ledger
        from comunicast import ledger_sqlite

        conn = ledger_sqlite.connect(path, busy_timeout_ms)
        try:
            ledger = cls(conn, path)
            ledger.migrate(todo)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ledger_sqlite.unusable(path, exc) from None
        return ledger

    @classmethod
    def open_existing(cls, path: LedgerLocation) -> Ledger | None:
        """Open an existing ledger read-only (no migrations, nothing created), or None."""
        if isinstance(path, PostgresLocation):
            from comunicast import ledger_postgres

            pg = ledger_postgres.connect(path, read_only=True)
            engine = ledger_postgres.PostgresEngine(pg, path)
            if not engine.has_records():
                pg.close()
                return None
            return cls(cast(sqlite3.Connection, pg), path, engine)
        from comunicast import ledger_sqlite

        conn = ledger_sqlite.connect_existing(path)
        return None if conn is None else cls(conn, path)

    def close(self) -> None:
        """Close the connection."""
        self.engine.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, its lock taken up front (SQLite: `BEGIN IMMEDIATE`;
        PostgreSQL: the project's advisory lock); rolled back on error. Every commit is
        durable on both engines: SQLite's `synchronous = FULL`, PostgreSQL's default
        `synchronous_commit = on`."""
        with self.engine.transaction():
            yield self.conn

    # -- publication locks -----------------------------------------------------------------

    def publication_lock(self, draft_id: str, sender: str) -> PublicationLockLike:
        """The lock a sending run holds on (draft, sender) while the row is `sending`: a file
        lock beside the SQLite ledger, a session lock of this connection on PostgreSQL."""
        return self.engine.publication_lock(draft_id, sender)

    def lock_is_held(self, draft_id: str, sender: str) -> bool:
        """True when a live run holds the publication's lock (its `sending` row is live)."""
        return self.engine.lock_is_held(draft_id, sender)

    # -- migrations ------------------------------------------------------------------------

    def migrate(self, migrations: Sequence[tuple[str, list[str]]]) -> list[str]:
        """Apply the migrations not yet recorded, each in one transaction with its record.

        Statements are SQLite's dialect, translated for the engine (`Engine.ddl`); a migration
        that must differ on an engine has its own statements in `ENGINE_MIGRATIONS`.
        """
        self.engine.ensure_schema()
        applied = []
        done = set(self.applied_migrations())
        for name, statements in migrations:
            if name in done:
                continue
            statements = ENGINE_MIGRATIONS.get(self.engine.name, {}).get(name, statements)
            with self.transaction() as conn:
                # Another process may have applied it while we waited for the write lock.
                if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue
                for statement in statements:
                    conn.execute(self.engine.ddl(statement))
                conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, time.time())
                )
            applied.append(name)
        return applied

    def applied_migrations(self) -> list[str]:
        """Names of the migrations applied to this database, in order."""
        rows = self.conn.execute("SELECT name FROM migrations ORDER BY name").fetchall()
        return [r["name"] for r in rows]

    # -- publications ----------------------------------------------------------------------

    def publications(
        self, *, draft_id: str | None = None, sender: str | None = None, limit: int | None = None
    ) -> list[Publication]:
        """Publications, most recent first, optionally of one draft and/or one sender."""
        sql = "SELECT * FROM publications"
        where: list[str] = []
        args: list[Any] = []
        if draft_id is not None:
            where.append("draft_id = ?")
            args.append(draft_id)
        if sender is not None:
            where.append("sender = ?")
            args.append(sender)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY claimed_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [Publication.from_row(r) for r in self.conn.execute(sql, args).fetchall()]

    def get(self, publication_id: int) -> Publication:
        """One publication by row id."""
        row = self.conn.execute(
            "SELECT * FROM publications WHERE id = ?", (publication_id,)
        ).fetchone()
        return Publication.from_row(row)

    def peek(self, draft_id: str, sender: str, revision: str, *, republish: bool = False) -> Claim:
        """What `claim` would decide, without writing (for dry runs and confirmations)."""
        rows = self._rows(self.conn, draft_id, sender)
        return _decide(rows, revision, republish=republish)

    def claim(
        self,
        draft_id: str,
        sender: str,
        revision: str,
        *,
        republish: bool = False,
        run_token: str | None = None,
        pid: int | None = None,
        first_attempt: bool = False,
        archive: ArchiveEntry | None = None,
    ) -> Claim:
        """Decide and, if allowed, mark the revision `sending`, committed before returning.

        The caller must hold the publication's lock (`comunicast.locks`): a `sending` row found
        here therefore belongs to a run that died, and becomes `unknown`. With `first_attempt`,
        the claim also counts the first network attempt (one commit instead of two).
        """
        now = time.time()
        with self.transaction() as conn:
            rows = self._rows(conn, draft_id, sender)
            for row in rows:
                if row.state == "sending":
                    conn.execute(
                        "UPDATE publications SET state = 'unknown', updated_at = ?, last_error = ?"
                        " WHERE id = ?",
                        (now, _("the run sending it stopped before recording the outcome"),
                         row.id),
                    )
                    self._event(conn, row.id, "unknown", "stale claim: the sending run died")
            if any(r.state == "sending" for r in rows):
                rows = self._rows(conn, draft_id, sender)
            claim = _decide(rows, revision, republish=republish)
            if claim.decision != "claimed":
                return claim
            existing = next((r for r in rows if r.revision == revision), None)
            # The first attempt, if counted, in the same statement (one round trip fewer on
            # PostgreSQL); the row as it is now comes back with RETURNING.
            counted = 1 if first_attempt else 0
            if existing is None:
                row = conn.execute(
                    "INSERT INTO publications (draft_id, sender, revision, state, attempts,"
                    " claimed_at, updated_at, run_token, pid)"
                    " VALUES (?, ?, ?, 'sending', ?, ?, ?, ?, ?) RETURNING *",
                    (draft_id, sender, revision, counted, now, now, run_token, pid),
                ).fetchone()
            else:
                row = conn.execute(
                    "UPDATE publications SET state = 'sending', attempts = attempts + ?,"
                    " claimed_at = ?, updated_at = ?, run_token = ?, pid = ?, resolved_as = NULL"
                    " WHERE id = ? RETURNING *",
                    (counted, now, now, run_token, pid, existing.id),
                ).fetchone()
            pub = Publication.from_row(row)
            self._event(conn, pub.id, "claim", f"pid {pid}" if pid else None)
            if first_attempt:
                self._event(conn, pub.id, "attempt", None)
            if archive is not None:  # what it shows its audience, in the same commit
                self._archive(conn, pub.id, archive)
            return Claim("claimed", pub)

    def begin_attempt(self, publication_id: int) -> int:
        """Count one more network attempt, committed before it is made; return the count."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE publications SET attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (time.time(), publication_id),
            )
            self._event(conn, publication_id, "attempt", None)
            row = conn.execute(
                "SELECT attempts FROM publications WHERE id = ?", (publication_id,)
            ).fetchone()
        return int(row["attempts"])

    def note(self, publication_id: int, event: str, detail: str | None) -> None:
        """Append an event (e.g. a retried failure) to the publication's history."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE publications SET last_error = ?, updated_at = ? WHERE id = ?",
                (detail, time.time(), publication_id),
            )
            self._event(conn, publication_id, event, detail)

    def record(
        self,
        publication_id: int,
        state: State,
        *,
        remote_id: str | None = None,
        error: str | None = None,
        to_paste: bool = False,
    ) -> Publication:
        """Record the outcome of a claimed publication (`to_paste`: sent to an outbox that
        waits for a person to confirm the paste)."""
        if state == "sending":
            raise ValueError("record() takes an outcome, not 'sending'")
        now = time.time()
        with self.transaction() as conn:
            self._event(conn, publication_id, state, error)
            row = conn.execute(
                "UPDATE publications SET state = ?, remote_id = COALESCE(?, remote_id),"
                " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,"
                " updated_at = ?, last_error = ? WHERE id = ? RETURNING *",
                (state, remote_id, state, now, now, error, publication_id),
            ).fetchone()
            if to_paste and state == "sent":  # a column of a later migration: asked only here
                row = conn.execute("UPDATE publications SET to_paste = 1 WHERE id = ?"
                                   " RETURNING *", (publication_id,)).fetchone()
            return Publication.from_row(row)

    def unsettled(self, draft_id: str, sender: str) -> list[Publication]:
        """Rows of (draft, sender) whose outcome is unknown or still `sending`."""
        return [
            p for p in self._rows(self.conn, draft_id, sender) if p.state in ("sending", "unknown")
        ]

    def resolve(self, publication_id: int, state: Literal["sent", "failed"], *,
                note: str | None = None) -> Publication:
        """A person settles an unknown publication (`comunicast resolve`)."""
        now = time.time()
        with self.transaction() as conn:
            row = self._get(conn, publication_id)
            # The best estimate of when a message that did go out was sent: its last attempt.
            sent_at = row.updated_at.timestamp() if state == "sent" else None
            conn.execute(
                "UPDATE publications SET state = ?, sent_at = ?, updated_at = ?, resolved_as = ?"
                " WHERE id = ?",
                (state, sent_at, now, state, publication_id),
            )
            self._event(conn, publication_id, "resolved", note or state)
            return self._get(conn, publication_id)

    def events(self, publication_id: int) -> list[dict[str, Any]]:
        """The history of one publication, oldest first."""
        rows = self.conn.execute(
            "SELECT at, event, detail FROM events WHERE publication_id = ? ORDER BY id",
            (publication_id,),
        ).fetchall()
        return [{"at": _dt(r["at"]), "event": r["event"], "detail": r["detail"]} for r in rows]

    @staticmethod
    def _rows(conn: sqlite3.Connection, draft_id: str, sender: str) -> list[Publication]:
        rows = conn.execute(
            "SELECT * FROM publications WHERE draft_id = ? AND sender = ? ORDER BY id",
            (draft_id, sender),
        ).fetchall()
        return [Publication.from_row(r) for r in rows]

    @staticmethod
    def _get(conn: sqlite3.Connection, publication_id: int) -> Publication:
        row = conn.execute("SELECT * FROM publications WHERE id = ?", (publication_id,)).fetchone()
        return Publication.from_row(row)

    @staticmethod
    def _event(conn: sqlite3.Connection, publication_id: int, event: str, detail: str | None) -> None:
        conn.execute(
            "INSERT INTO events (publication_id, at, event, detail) VALUES (?, ?, ?, ?)",
            (publication_id, time.time(), event, detail),
        )

    # -- approvals (SPEC §8) ----------------------------------------------------------------

    def record_approvals(
        self,
        publication_id: int,
        content_revision: str,
        approvals: Iterable[tuple[str, str, bool, str]],
        urgent: tuple[str, str] | None = None,
    ) -> None:
        """What a claimed publication goes out under: (approver, file, signed, approved_at)
        rows, and the urgent bypass (reason, user) if any; committed before the send."""
        now = time.time()
        rows = [(publication_id, content_revision, approver, file, int(signed), at, now)
                for approver, file, signed, at in approvals]
        with self.transaction() as conn:
            if rows:
                conn.executemany(
                    "INSERT INTO publication_approvals (publication_id, content_revision,"
                    " approver, approval_file, signed, approved_at, recorded_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (publication_id, approver) DO NOTHING",
                    rows,
                )
            if urgent is not None:
                conn.execute(
                    "INSERT INTO urgent_publications (publication_id, content_revision, reason,"
                    " user_name, at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (publication_id) DO NOTHING",
                    (publication_id, content_revision, urgent[0], urgent[1], now),
                )

    def approvals_of(self, publication_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """By publication id: `approved_by` (names), `urgent_reason`, `urgent_by`, `urgent_at`
        (UTC datetime) of each publication that went out under approvals or a bypass."""
        wanted = list(dict.fromkeys(publication_ids))
        found: dict[int, dict[str, Any]] = {}
        if not self._has_approval_tables():
            return found

        def entry(pub_id: int) -> dict[str, Any]:
            return found.setdefault(pub_id, {"approved_by": [], "urgent_reason": None,
                                             "urgent_by": None, "urgent_at": None})

        for start in range(0, len(wanted), 500):  # stay under SQLite's variable limit
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                f"SELECT publication_id, approver FROM publication_approvals"
                f" WHERE publication_id IN ({marks}) ORDER BY id", chunk
            ):
                entry(r["publication_id"])["approved_by"].append(r["approver"])
            for r in self.conn.execute(
                f"SELECT publication_id, reason, user_name, at FROM urgent_publications"
                f" WHERE publication_id IN ({marks})", chunk
            ):
                entry(r["publication_id"]).update(
                    urgent_reason=r["reason"], urgent_by=r["user_name"], urgent_at=_dt(r["at"]))
        return found

    def approval_checks_get(self, keys: Iterable[str]) -> dict[str, bool]:
        """Remembered signature checks among `keys` (hashes of what was verified), by key."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, bool] = {}
        try:
            for start in range(0, len(wanted), 500):  # stay under SQLite's variable limit
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for r in self.conn.execute(
                    f"SELECT key, ok FROM approval_checks WHERE key IN ({marks})", chunk
                ):
                    found[r["key"]] = bool(r["ok"])
        except sqlite3.OperationalError:  # a ledger whose 0004 predates this table
            return {}
        return found

    def approval_checks_put(self, results: Iterable[tuple[str, bool]]) -> None:
        """Remember signature checks: (key, ok)."""
        now = time.time()
        rows = [(key, int(ok), now) for key, ok in results]
        if not rows:
            return
        try:
            with self.transaction() as conn:
                conn.executemany(
                    "INSERT INTO approval_checks (key, ok, checked_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET ok = excluded.ok,"
                    " checked_at = excluded.checked_at",
                    rows,
                )
        except sqlite3.OperationalError:  # a ledger whose 0004 predates this table
            return

    def _has_approval_tables(self) -> bool:
        # Opened read-only (`log`), a ledger may predate 0004: it then holds no approvals.
        return "0004_approvals" in self.applied_migrations()

    # -- link cache (used by `check --online`) ---------------------------------------------

    def link_cache_get(self, url: str, max_age_seconds: float) -> dict[str, Any] | None:
        """The cached check of `url` if younger than `max_age_seconds`, else None."""
        return self.link_cache_get_many([url], max_age_seconds).get(url)

    def link_cache_get_many(
        self, urls: Iterable[str], max_age_seconds: float
    ) -> dict[str, dict[str, Any]]:
        """Fresh cached checks of `urls`, by URL (missing or stale ones left out)."""
        wanted = list(dict.fromkeys(urls))
        oldest = time.time() - max_age_seconds
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), 500):  # stay under SQLite's variable limit
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT url, checked_at, status, final_url, error FROM link_cache"
                f" WHERE url IN ({marks}) AND checked_at >= ?",
                (*chunk, oldest),
            ).fetchall()
            for r in rows:
                found[r["url"]] = dict(r)
        return found

    def link_cache_put(
        self, url: str, status: int | None, final_url: str | None, error: str | None
    ) -> None:
        """Remember the result of checking `url` now."""
        self.link_cache_put_many([(url, status, final_url, error)])

    def link_cache_put_many(
        self,
        rows: Iterable[tuple[str, int | None, str | None, str | None] | Mapping[str, Any]],
    ) -> None:
        """Remember several results at once: tuples (url, status, final_url, error) or dicts."""
        now = time.time()
        values = []
        for row in rows:
            if isinstance(row, Mapping):
                values.append(
                    (row["url"], now, row.get("status"), row.get("final_url"), row.get("error"))
                )
            else:
                url, status, final_url, error = row
                values.append((url, now, status, final_url, error))
        if not values:
            return
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO link_cache (url, checked_at, status, final_url, error)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET"
                " checked_at = excluded.checked_at, status = excluded.status,"
                " final_url = excluded.final_url, error = excluded.error",
                values,
            )

    # -- findings cache (used by `check`) --------------------------------------------------

    def check_cache_get_many(self, keys: Iterable[str]) -> dict[str, tuple[float, str]]:
        """(used_at, data) of the remembered entries among `keys`, by key."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, tuple[float, str]] = {}
        for start in range(0, len(wanted), 500):  # stay under SQLite's variable limit
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                f"SELECT key, used_at, data FROM check_cache WHERE key IN ({marks})", chunk
            ):
                found[r["key"]] = (r["used_at"], r["data"])
        return found

    def check_cache_put_many(
        self, entries: Iterable[tuple[str, str]], *, touch: Iterable[str] = (),
        forget_before: float | None = None,
    ) -> None:
        """Remember (key, data) entries, mark the `touch` keys as used now, and forget the
        entries unused since `forget_before` (a timestamp), in one short transaction."""
        now = time.time()
        rows = [(key, now, data) for key, data in entries]
        used = [(now, key) for key in touch]
        with self.transaction() as conn:
            if rows:
                conn.executemany(
                    "INSERT INTO check_cache (key, used_at, data) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET used_at = excluded.used_at,"
                    " data = excluded.data",
                    rows,
                )
            if used:
                conn.executemany("UPDATE check_cache SET used_at = ? WHERE key = ?", used)
            if forget_before is not None:
                conn.execute("DELETE FROM check_cache WHERE used_at < ?", (forget_before,))


    # -- notices (what `publish --due` already said) ----------------------------------------

    def notices(self) -> dict[tuple[str, str], tuple[str, float, float]]:
        """(fingerprint, first_at, reported_at) of every remembered notice, by (kind, subject)."""
        return {(r["kind"], r["subject"]): (r["fingerprint"], r["first_at"], r["reported_at"])
                for r in self.conn.execute(
                    "SELECT kind, subject, fingerprint, first_at, reported_at FROM notices")}

    def notices_update(self, said: Iterable[tuple[str, str, str]], *,
                       keep: Iterable[tuple[str, str]], at: float) -> None:
        """Remember that the (kind, subject, fingerprint) notices were said `at` (a timestamp),
        and forget every notice not in `keep` (no longer true); nothing is written when nothing
        changed (the quiet cron run)."""
        rows = [(kind, subject, fingerprint, at, at) for kind, subject, fingerprint in said]
        kept = set(keep)
        gone = [key for key in self.notices() if key not in kept]
        if not rows and not gone:
            return
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO notices (kind, subject, fingerprint, first_at, reported_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, subject) DO UPDATE SET"
                " fingerprint = excluded.fingerprint, reported_at = excluded.reported_at",
                rows)
            conn.executemany("DELETE FROM notices WHERE kind = ? AND subject = ?", gone)


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _decide(rows: list[Publication], revision: str, *, republish: bool) -> Claim:
    """The claim decision from the (draft, sender) rows, before any write."""
    current = next((r for r in rows if r.revision == revision), None)
    unsettled = [r for r in rows if r.state in ("unknown", "sending")]
    if current is not None and current.state == "sent":
        return Claim("skipped", current)
    if unsettled:
        # A message in doubt blocks every revision: sending another could duplicate it.
        blocking = unsettled[-1]
        return Claim("unknown", current, blocking)
    other_sent = [r for r in rows if r.state == "sent" and r.revision != revision]
    if other_sent and not republish:
        return Claim("refused", current, other_sent[-1])
    return Claim("claimed", current)
