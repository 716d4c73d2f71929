"""The ledger's record of corrections and withdrawals (SPEC §10), mixed into `Ledger`.

One `actions` row per edit or withdrawal of a publication, with its own state
(`sending` → `done` | `failed` | `unknown`), claimed and committed before the request, under the
publication's lock, and recorded after the answer, exactly like a publication. `payloads` keeps,
for every publication claimed, the text and the image hash it carries, so a later edit can tell
a changed text (editable in place) from a changed image (not editable).

Queries use `?` placeholders and `RETURNING`, so they run unchanged on PostgreSQL (SPEC §11).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from comunicast.i18n import _

if TYPE_CHECKING:
    import sqlite3
    from contextlib import AbstractContextManager

    from comunicast.ledger import Publication

ActionKind = Literal["edit", "withdraw"]
ActionState = Literal["sending", "done", "failed", "unknown"]

#: Tables this module owns (for `ledger copy`, SPEC §11).
TABLES = ("actions", "payloads")

MIGRATION_0006: tuple[str, list[str]] = (
    "0006_actions",
    [
        """CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            publication_id INTEGER NOT NULL REFERENCES publications (id),
            action TEXT NOT NULL CHECK (action IN ('edit', 'withdraw')),
            revision TEXT NOT NULL,
            remote_id TEXT,
            text TEXT,
            plain TEXT,
            reason TEXT,
            state TEXT NOT NULL CHECK (state IN ('sending', 'done', 'failed', 'unknown')),
            attempts INTEGER NOT NULL DEFAULT 0,
            claimed_at REAL NOT NULL,
            done_at REAL,
            updated_at REAL NOT NULL,
            run_token TEXT,
            pid INTEGER,
            last_error TEXT,
            resolved_as TEXT
        )""",
        "CREATE INDEX actions_publication ON actions (publication_id)",
        """CREATE TABLE payloads (
            publication_id INTEGER PRIMARY KEY REFERENCES publications (id),
            target TEXT NOT NULL,
            text TEXT NOT NULL,
            image_sha256 TEXT,
            image_alt TEXT,
            recorded_at REAL NOT NULL
        )""",
    ],
)


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class Action:
    """One edit or withdrawal of one publication, as the ledger records it."""

    id: int
    publication_id: int
    action: ActionKind
    #: Edit: the revision put in place. Withdrawal: the revision the message showed.
    revision: str
    #: The platform's id of the message it changes.
    remote_id: str | None
    #: Edit: the new text as sent to the publication's target, and its plain rendering (the
    #: archive site shows that for targets whose text is markup of their own, e.g. HTML).
    text: str | None
    plain: str | None
    #: Withdrawal: why.
    reason: str | None
    state: ActionState
    attempts: int
    claimed_at: datetime
    done_at: datetime | None
    updated_at: datetime
    run_token: str | None
    pid: int | None
    last_error: str | None
    resolved_as: str | None

    @classmethod
    def from_row(cls, row: Any) -> Action:
        """Build from an `actions` row."""
        return cls(
            id=row["id"],
            publication_id=row["publication_id"],
            action=row["action"],
            revision=row["revision"],
            remote_id=row["remote_id"],
            text=row["text"],
            plain=row["plain"],
            reason=row["reason"],
            state=row["state"],
            attempts=row["attempts"],
            claimed_at=_dt(row["claimed_at"]),
            done_at=_dt(row["done_at"]) if row["done_at"] is not None else None,
            updated_at=_dt(row["updated_at"]),
            run_token=row["run_token"],
            pid=row["pid"],
            last_error=row["last_error"],
            resolved_as=row["resolved_as"],
        )


@dataclass(frozen=True)
class ActionClaim:
    """The answer to "may I make this edit or withdrawal now?"."""

    decision: Literal["claimed", "blocked"]
    action: Action | None
    #: The action in doubt that stops another one (resolve it first).
    blocking: Action | None = None


@dataclass(frozen=True)
class Payload:
    """What a publication carried when it was claimed: its text and image hash."""

    publication_id: int
    target: str
    text: str
    image_sha256: str | None
    image_alt: str | None


class ActionsLedger:
    """Ledger methods for `actions` and `payloads`; `Ledger` inherits them."""

    if TYPE_CHECKING:
        conn: sqlite3.Connection

        def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def get(self, publication_id: int) -> Publication: ...

        @staticmethod
        def _event(conn: sqlite3.Connection, publication_id: int, event: str,
                   detail: str | None) -> None: ...

    # -- payloads --------------------------------------------------------------------------

    def remember_payload(self, publication_id: int, *, target: str, text: str,
                         image_sha256: str | None, image_alt: str | None) -> None:
        """Record what a claimed publication carries (once: a revision's payload never changes)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO payloads (publication_id, target, text, image_sha256, image_alt,"
                " recorded_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (publication_id) DO NOTHING",
                (publication_id, target, text, image_sha256, image_alt, time.time()),
            )

    def payload(self, publication_id: int) -> Payload | None:
        """What the publication carried, or None when it was claimed before 0006_actions."""
        row = self.conn.execute(
            "SELECT * FROM payloads WHERE publication_id = ?", (publication_id,)
        ).fetchone()
        if row is None:
            return None
        return Payload(row["publication_id"], row["target"], row["text"], row["image_sha256"],
                       row["image_alt"])

    # -- actions ---------------------------------------------------------------------------

    def actions(self, publication_id: int | None = None, *, draft_id: str | None = None,
                sender: str | None = None) -> list[Action]:
        """Actions, oldest first: of one publication, or of a draft (and sender)."""
        sql = "SELECT a.* FROM actions a JOIN publications p ON p.id = a.publication_id"
        where: list[str] = []
        args: list[Any] = []
        if publication_id is not None:
            where.append("a.publication_id = ?")
            args.append(publication_id)
        if draft_id is not None:
            where.append("p.draft_id = ?")
            args.append(draft_id)
        if sender is not None:
            where.append("p.sender = ?")
            args.append(sender)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY a.id"
        return [Action.from_row(r) for r in self.conn.execute(sql, args).fetchall()]

    def claim_action(
        self,
        publication_id: int,
        action: ActionKind,
        *,
        revision: str,
        remote_id: str | None,
        text: str | None = None,
        plain: str | None = None,
        reason: str | None = None,
        run_token: str | None = None,
        pid: int | None = None,
    ) -> ActionClaim:
        """Mark an edit or withdrawal `sending` (its first attempt counted), committed before
        returning.

        The caller holds the publication's lock: a `sending` action found here belongs to a run
        that died and becomes `unknown`. An action in doubt is taken up again by the same action
        (it is idempotent); an edit in doubt stops a different edit (which text would win is
        unknown), never a withdrawal (deleting settles every text).
        """
        now = time.time()
        with self.transaction() as conn:
            rows = self._action_rows(conn, publication_id)
            for row in rows:
                if row.state == "sending":
                    conn.execute(
                        "UPDATE actions SET state = 'unknown', updated_at = ?, last_error = ?"
                        " WHERE id = ?",
                        (now, _("the run making it stopped before recording the outcome"),
                         row.id),
                    )
                    self._event(conn, publication_id, f"{row.action}-unknown",
                                "stale claim: the run died")
            rows = self._action_rows(conn, publication_id)
            doubtful = [r for r in rows if r.state == "unknown"]
            others = [r for r in doubtful if not (r.action == action and r.revision == revision)]
            if action == "edit" and others:
                return ActionClaim("blocked", None, others[-1])
            # The same action again takes up its row: one in doubt, or the last one, failed.
            mine = [r for r in rows if r.action == action and r.state in ("unknown", "failed")
                    and (action == "withdraw" or r.revision == revision)]
            again = mine[-1] if mine and (mine[-1].state == "unknown"
                                          or mine[-1].id == rows[-1].id) else None
            if again is not None:
                action_id = again.id
                conn.execute(
                    "UPDATE actions SET state = 'sending', attempts = attempts + 1,"
                    " claimed_at = ?, updated_at = ?, run_token = ?, pid = ?, text = ?,"
                    " plain = ?, reason = ?, remote_id = ?, resolved_as = NULL WHERE id = ?",
                    (now, now, run_token, pid, text, plain, reason, remote_id, action_id),
                )
            else:
                cur = conn.execute(
                    "INSERT INTO actions (publication_id, action, revision, remote_id, text,"
                    " plain, reason, state, attempts, claimed_at, updated_at, run_token, pid)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'sending', 1, ?, ?, ?, ?) RETURNING id",
                    (publication_id, action, revision, remote_id, text, plain, reason, now, now,
                     run_token, pid),
                )
                action_id = int(cur.fetchone()[0])
            self._event(conn, publication_id, f"{action}-claim", f"pid {pid}" if pid else None)
            return ActionClaim("claimed", self._action(conn, action_id))

    def begin_action_attempt(self, action_id: int) -> int:
        """Count one more attempt of an action, committed before it is made; return the count."""
        with self.transaction() as conn:
            row = conn.execute(
                "UPDATE actions SET attempts = attempts + 1, updated_at = ? WHERE id = ?"
                " RETURNING attempts, publication_id, action",
                (time.time(), action_id),
            ).fetchone()
            attempts, publication_id, action = int(row[0]), int(row[1]), str(row[2])
            self._event(conn, publication_id, f"{action}-attempt", None)
        return attempts

    def note_action(self, action_id: int, detail: str | None) -> None:
        """Remember a failure that will be retried."""
        with self.transaction() as conn:
            row = conn.execute(
                "UPDATE actions SET last_error = ?, updated_at = ? WHERE id = ?"
                " RETURNING publication_id, action",
                (detail, time.time(), action_id),
            ).fetchone()
            self._event(conn, int(row[0]), f"{row[1]}-retry", detail)

    def record_action(self, action_id: int, state: ActionState, *,
                      error: str | None = None) -> Action:
        """Record the outcome of a claimed action."""
        if state == "sending":
            raise ValueError("record_action() takes an outcome, not 'sending'")
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                "UPDATE actions SET state = ?, done_at = CASE WHEN ? = 'done' THEN ? ELSE done_at"
                " END, updated_at = ?, last_error = ? WHERE id = ?",
                (state, state, now, now, error, action_id),
            )
            done = self._action(conn, action_id)
            self._event(conn, done.publication_id, f"{done.action}-{state}", error)
            return done

    def resolve_action(self, action_id: int, state: Literal["done", "failed"], *,
                       note: str | None = None) -> Action:
        """A person settles an action in doubt (`comunicast resolve`)."""
        now = time.time()
        with self.transaction() as conn:
            row = self._action(conn, action_id)
            done_at = row.updated_at.timestamp() if state == "done" else None
            conn.execute(
                "UPDATE actions SET state = ?, done_at = ?, updated_at = ?, resolved_as = ?"
                " WHERE id = ?",
                (state, done_at, now, state, action_id),
            )
            self._event(conn, row.publication_id, f"{row.action}-resolved", note or state)
            return self._action(conn, action_id)

    def unsettled_actions(self, draft_id: str, sender: str) -> list[Action]:
        """Actions of (draft, sender) whose outcome is unknown or still `sending`."""
        return [a for a in self.actions(draft_id=draft_id, sender=sender)
                if a.state in ("sending", "unknown")]

    @staticmethod
    def _action_rows(conn: sqlite3.Connection, publication_id: int) -> list[Action]:
        rows = conn.execute(
            "SELECT * FROM actions WHERE publication_id = ? ORDER BY id", (publication_id,)
        ).fetchall()
        return [Action.from_row(r) for r in rows]

    @staticmethod
    def _action(conn: sqlite3.Connection, action_id: int) -> Action:
        row = conn.execute("SELECT * FROM actions WHERE id = ?", (action_id,)).fetchone()
        return Action.from_row(row)

    def reclaim_withdrawn(self, publication_id: int, *, run_token: str | None,
                          pid: int | None) -> Publication:
        """Claim a withdrawn publication to send it again (`--republish` of the same revision).

        One transaction: the row becomes `sending` with its first attempt counted, so a crash
        leaves it in doubt (`unknown`), never quietly sendable without `--republish`.
        """
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                "UPDATE publications SET state = 'sending', attempts = attempts + 1,"
                " claimed_at = ?, updated_at = ?, run_token = ?, pid = ?, resolved_as = NULL,"
                " last_error = NULL WHERE id = ?",
                (now, now, run_token, pid, publication_id),
            )
            self._event(conn, publication_id, "claim", "republish after withdrawal")
            self._event(conn, publication_id, "attempt", None)
        return self.get(publication_id)
