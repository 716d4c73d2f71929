"""Per-publication locks held by the sending process, released by the OS when it dies.

While a run holds a publication's lock, a `sending` row is that run's, live. A `sending` row
whose lock is free belongs to a run that died: its outcome is unknown (SPEC §5).
Lock files are never deleted: unlinking a lock file another process has open would let two
processes "hold" the same lock.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from comunicast.errors import ConfigError
from comunicast.i18n import _


def lock_path(locks_dir: Path, draft_id: str, sender: str) -> Path:
    """The lock file of publication (draft_id, sender)."""
    digest = hashlib.sha256(f"{draft_id}\0{sender}".encode()).hexdigest()[:40]
    return locks_dir / f"{digest}.lock"


class PublicationLock:
    """An exclusive, non-blocking lock on one (draft, sender) publication."""

    def __init__(self, locks_dir: Path, draft_id: str, sender: str) -> None:
        self.path = lock_path(locks_dir, draft_id, sender)
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._file is not None

    def acquire(self) -> bool:
        """Take the lock if no other process (or object) holds it; never waits."""
        if self._file is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            file = open(self.path, "a+b")  # noqa: SIM115 - held open for the lock's lifetime
        except OSError as exc:
            raise ConfigError(
                _("cannot create the lock file {path}: {reason}; comunicast must be able to "
                  "write in {folder}").format(
                    path=self.path, reason=exc.strerror or type(exc).__name__,
                    folder=self.path.parent.parent)
            ) from None
        try:
            locked = _try_lock(file)
        except OSError as exc:
            file.close()
            raise ConfigError(str(exc)) from None
        if not locked:
            file.close()
            return False
        self._file = file
        return True

    def release(self) -> None:
        """Give the lock back."""
        if self._file is not None:
            _unlock(self._file)
            self._file.close()
            self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def is_held(locks_dir: Path, draft_id: str, sender: str) -> bool:
    """True when some live process holds the publication's lock (probing never creates files)."""
    path = lock_path(locks_dir, draft_id, sender)
    try:
        file = open(path, "rb")  # noqa: SIM115
    except OSError:  # no lock file (or no usable locks folder): nobody can be holding it
        return False
    try:
        if _try_lock(file):
            _unlock(file)
            return False
        return True
    finally:
        file.close()


if sys.platform == "win32":  # pragma: no cover - exercised only on Windows
    import msvcrt

    def _try_lock(file: IO[bytes]) -> bool:
        try:
            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(file: IO[bytes]) -> None:
        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(file: IO[bytes]) -> bool:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as exc:  # e.g. ENOLCK on odd file systems
            raise OSError(exc.errno, f"cannot lock {getattr(file, 'name', '?')}: {exc}") from None
        return True

    def _unlock(file: IO[bytes]) -> None:
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)


__all__ = ["PublicationLock", "is_held", "lock_path"]
