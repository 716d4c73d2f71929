"""The ledger's SQLite engine: connecting (WAL, busy timeout, FULL sync), `BEGIN IMMEDIATE`,
read-only opening, error mapping, and the publication locks (files beside the ledger)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from comunicast.errors import ConfigError
from comunicast.i18n import _
from comunicast.locks import PublicationLock, is_held

BUSY_TIMEOUT_MS = 30_000

#: SQLite errors that mean "this user may not read or write here", not a damaged ledger.
_ACCESS_ERRORS = ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")


def is_access_problem(exc: sqlite3.Error) -> bool:
    """True for an error that is about permissions, not about the file's contents."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(_ACCESS_ERRORS)


def unusable(path: Path, exc: sqlite3.Error) -> ConfigError:
    """The error for a ledger SQLite will not open: a permissions problem, or a damaged file."""
    if is_access_problem(exc):
        return ConfigError(
            _("cannot open the ledger {path}: {reason}").format(path=path, reason=exc),
            hint=_("check the permissions: comunicast must be able to write in {folder} and "
                   "the files in it (the ledger keeps -wal and -shm files beside it)").format(
                folder=path.parent),
        )
    return ConfigError(
        _("the ledger {path} is not usable: {reason}").format(path=path, reason=exc),
        hint=_("restore it from a backup; it records what was already published"),
    )


def switch_to_wal(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """`PRAGMA journal_mode = WAL`, tried again while another process holds the lock it needs.

    Runs that start together on a brand-new ledger (cron and a person, or overlapping cron
    jobs) each switch it from SQLite's initial rollback journal to WAL. Each holds a read lock
    and wants the exclusive one: a deadlock, which SQLite resolves by answering one of them
    "database is locked" at once, without the busy timeout's wait. The switch is idempotent.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = 0.002
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = (getattr(exc, "sqlite_errorname", "") or "").startswith("SQLITE_BUSY")
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def connect(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open (creating folders and file), WAL, FULL sync, foreign keys."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path), timeout=busy_timeout_ms / 1000, isolation_level=None,
            check_same_thread=False,
        )
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(
            _("cannot open the ledger {path}: {reason}").format(path=path, reason=exc)
        ) from None
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        switch_to_wal(conn, busy_timeout_ms)
        # FULL: a claim must survive a power cut, not only a crash of this process.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise unusable(path, exc) from None
    return conn


def connect_existing(path: Path) -> sqlite3.Connection | None:
    """An existing ledger, read-only (no migrations, no file created), or None."""
    if not path.is_file():
        return None
    try:
        try:
            return _connect_read_only(path, "mode=ro")
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                # Another run is creating the ledger right now (or left it empty before
                # its first migration): nothing has been recorded in it yet.
                return None
            if not is_access_problem(exc):
                raise
            # A folder this user may not write: SQLite cannot create the WAL index beside
            # the ledger. No run can be writing it then (it would have created that index).
            return _connect_read_only(path, "mode=ro&immutable=1")
    except sqlite3.Error as exc:
        raise unusable(path, exc) from None


def _connect_read_only(path: Path, query: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?{query}", uri=True,
        timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
    )
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("SELECT 1 FROM publications LIMIT 1")
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteEngine:
    """Transactions, migrations and publication locks of one SQLite ledger file."""

    name = "sqlite"

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        #: Lock files live beside the ledger (`.comunicast/locks/`).
        self.locks_dir = path.parent / "locks"

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """`BEGIN IMMEDIATE` … `COMMIT` (rolled back on error): the write lock is taken up front."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def ddl(self, statement: str) -> str:
        """Migrations are written in SQLite's dialect."""
        return statement

    def ensure_schema(self) -> None:
        """The migrations table."""
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
        )

    def tables(self) -> set[str]:
        """The tables of this ledger."""
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows}

    def after_copy(self, table: str, key: str) -> None:
        """Nothing to do: SQLite's rowids follow the largest id written."""

    def publication_lock(self, draft_id: str, sender: str) -> PublicationLock:
        """The lock file a sending run holds on (draft, sender)."""
        return PublicationLock(self.locks_dir, draft_id, sender)

    def lock_is_held(self, draft_id: str, sender: str) -> bool:
        """True when some live process holds the publication's lock."""
        return is_held(self.locks_dir, draft_id, sender)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
