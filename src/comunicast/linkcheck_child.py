"""The network phase of `check --online` in a child forked early, so importing aiohttp overlaps
the parent's work.

Before the first request, the parent imports typer and pydantic, reads the configuration, loads
the drafts, finds their URLs and forks the rules' children (0.2-0.4 s), and importing asyncio
and aiohttp takes another 0.15-0.3 s (aiohttp builds two TLS contexts, loading the system's CA
store twice, as it is imported). Forked by the entry point before any of that
(`start_early`, when the project has no ledger yet, so every link will be asked), or else
right after the configuration is read, a child imports them meanwhile, on the other core, then
waits for the URLs; the parent sends them with the language to speak, relays the child's
progress and receives the results. Whatever goes wrong with the child (it died, it could not
import), the parent asks the network itself: the child only ever saves time.

Messages on the pipes are length-prefixed pickles between a process and its own fork.
"""

from __future__ import annotations

import os
import pickle
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from comunicast.linkcheck import LinkResult

_HEAD = struct.Struct("!I")


def _send(fd: int, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEAD.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _receive(fd: int) -> Any:
    head = _read_exactly(fd, _HEAD.size)
    if head is None:
        raise EOFError
    data = _read_exactly(fd, _HEAD.unpack(head)[0])
    if data is None:
        raise EOFError
    return pickle.loads(data)  # our own fork wrote it


class NetworkChild:
    """A forked child that imports aiohttp now and checks the URLs it is sent later."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._asked = False
        jobs_read, self._jobs = os.pipe()
        self._answers, answers_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(self._jobs)
            os.close(self._answers)
            _serve(jobs_read, answers_write)
        self.pid = pid
        os.close(jobs_read)
        os.close(answers_write)

    def check(self, urls: list[str], options: dict[str, Any],
              progress: Callable[[int, int], None] | None) -> list[LinkResult] | None:
        """The results for `urls` (`linkcheck._run`'s options), or None if the child failed."""
        from comunicast.i18n import current_language
        from comunicast.linkcheck import LinkResult

        try:
            self._asked = True
            _send(self._jobs, (urls, options, current_language()))
            while True:
                kind, *payload = _receive(self._answers)
                if kind == "progress":
                    if progress is not None:
                        progress(*payload)
                elif kind == "results":
                    return [LinkResult(*row) for row in payload[0]]
                else:
                    return None
        except (OSError, EOFError, pickle.PickleError):
            return None
        finally:
            self.close()

    def close(self) -> None:
        """Let the child go (it exits on the closed pipe) and reap it."""
        if self.pid is None:
            return
        if not self._asked:  # said, not only closed: forked rules workers hold the pipe too
            try:
                _send(self._jobs, None)
            except OSError:
                pass
        for fd in (self._jobs, self._answers):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.pid = None


#: The child the entry point forked before the heavy imports, until the command takes it.
_early: NetworkChild | None = None


def can_fork() -> bool:
    """Whether a network child may be forked here (POSIX, and not `COMUNICAST_WORKERS=1`)."""
    return hasattr(os, "fork") and os.environ.get("COMUNICAST_WORKERS") != "1"


def start_early() -> None:
    """Fork the network child now (the entry point, before typer is imported)."""
    global _early
    try:
        _early = NetworkChild()
    except OSError:
        _early = None


def take_early() -> NetworkChild | None:
    """The child `start_early` forked, for the command to use or `close` (once)."""
    global _early
    child, _early = _early, None
    return child


def _serve(jobs: int, answers: int) -> None:
    status = 0
    try:
        import asyncio

        import aiohttp  # noqa: F401 - the point of this child: imported while the parent works

        from comunicast.linkcheck import _run

        try:
            job = _receive(jobs)
        except EOFError:
            job = None
        if job is None:  # the parent needed no request after all
            os._exit(0)
        urls, options, language = job
        from comunicast.i18n import set_language

        set_language(language)  # forked before the configuration chose it, maybe

        import time

        last = [0.0]

        def progress(done: int, total: int) -> None:
            # At most 20 a second: each message wakes the parent, which shares the cores.
            now = time.monotonic()
            if done == total or now - last[0] >= 0.05:
                last[0] = now
                _send(answers, ("progress", done, total))

        results = asyncio.run(_run(urls, progress=progress, **options))
        _send(answers, ("results", [(r.url, r.status, r.final_url, r.error) for r in results]))
    except BaseException:  # noqa: BLE001 - the parent asks the network itself
        status = 1
        try:
            _send(answers, ("failed",))
        except OSError:
            pass
    finally:
        os._exit(status)
