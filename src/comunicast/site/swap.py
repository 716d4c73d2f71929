"""Putting a freshly built folder in place of the old one in one step.

On Linux, `renameat2(RENAME_EXCHANGE)` swaps the two folders atomically: a reader (or a crash)
sees the old site or the new one, never neither. Elsewhere two renames are used, with a window
of a few microseconds in which the folder is missing; `recover` puts the old one back if a
build died in it.

The new folder's files are flushed to disk before the swap (one `syncfs` of its file system,
not a `fsync` per file): after a power cut the site is the old one or the new one with every
byte, never new names over empty files.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
from pathlib import Path
from typing import Any

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _libc_function(name: str) -> Any:
    """The C library's `name`, or None where this platform has none."""
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap `a` and `b` atomically; False when the platform cannot."""
    renameat2 = _libc_function("renameat2")
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # kernel or filesystem cannot
        return False
    raise OSError(err, os.strerror(err), str(b))


def put_in_place(built: Path, target: Path) -> None:
    """Make `built` the folder at `target`; the previous folder is removed afterwards."""
    flush(built)
    if not target.exists():
        os.rename(built, target)
    elif _exchange(built, target):
        shutil.rmtree(built, ignore_errors=True)  # `built` now holds the previous site
    else:
        aside = target.with_name(f".{target.name}.old")
        shutil.rmtree(aside, ignore_errors=True)
        os.rename(target, aside)
        os.rename(built, target)
        shutil.rmtree(aside, ignore_errors=True)
    _fsync_dir(target.parent)


def flush(folder: Path) -> None:
    """Write everything under `folder` to disk: `syncfs` on its file system (Linux), else
    `sync`. A few hundredths of a second for a rebuild's files, ~0.15 s for a whole site."""
    syncfs = _libc_function("syncfs")
    if syncfs is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()


def recover(target: Path) -> None:
    """After a build that died between the two renames: put the previous folder back."""
    aside = target.with_name(f".{target.name}.old")
    if aside.is_dir() and not target.exists():
        os.rename(aside, target)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
