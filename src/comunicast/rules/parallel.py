"""Spread CPU-bound rule checking over the machine's cores with fork (Linux), in order.

Checking a thousand drafts is pure Python work; one forked child per extra core halves the wall
time on a two-core machine, and with `--online` the rules run in a child while this process
waits for the network. Forking happens before any thread, socket or database is opened.
Anything unexpected in a child (a crash, an unpicklable result) is redone in this process, so a
failure there can cost time but never findings.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many items a fork costs more than it saves.
MIN_ITEMS = 64
#: COMUNICAST_WORKERS=1 turns parallel checking off (e.g. to profile).
ENV = "COMUNICAST_WORKERS"


def workers() -> int:
    """How many processes to use: the available cores (at most 4), or COMUNICAST_WORKERS."""
    wanted = os.environ.get(ENV)
    if wanted and wanted.isdigit() and int(wanted) >= 1:
        return int(wanted)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class ChunkMap(Generic[T, R]):
    """`func(items)` computed in chunks by forked children, started now and collected later.

    With `in_parent`, this process computes the first chunk itself when `result()` is called;
    without, every chunk goes to a child and this process is free in the meantime.
    """

    def __init__(self, func: Callable[[Sequence[T]], list[R]], items: Sequence[T], *,
                 in_parent: bool = True, min_items: int = MIN_ITEMS, nice: int = 0) -> None:
        self.func = func
        self.nice = nice
        self.children: list[tuple[int, int, Sequence[T]]] = []
        self.local: list[Sequence[T]] = [items]
        n = workers() - (0 if in_parent else 1)
        if n < 1 or (in_parent and n < 2) or len(items) < min_items or not _can_fork():
            return
        size = -(-len(items) // n)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        self.local = chunks[:1] if in_parent else []
        for chunk in chunks[1:] if in_parent else chunks:
            self._fork(chunk)

    def _fork(self, chunk: Sequence[T]) -> None:
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: compute, send, leave without running any cleanup
            os.close(read)
            try:
                if self.nice:
                    os.nice(self.nice)  # let the parent (waiting on the network) go first
                data = pickle.dumps(self.func(chunk), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:  # noqa: BLE001 - the parent redoes the chunk
                data = b""
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
            os._exit(0)
        os.close(write)
        self.children.append((pid, read, chunk))

    def result(self) -> list[R]:
        """Every result, in the order of the items."""
        try:
            results: list[R] = []
            for chunk in self.local:
                results.extend(self.func(chunk))
            while self.children:
                pid, read, chunk = self.children[0]
                with os.fdopen(read, "rb") as pipe:
                    data = pipe.read()
                os.waitpid(pid, 0)
                self.children.pop(0)
                try:
                    part = pickle.loads(data) if data else None
                except Exception:  # noqa: BLE001
                    part = None
                results.extend(part if isinstance(part, list) else self.func(chunk))
            return results
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Stop the children still running (only after an error in this process)."""
        for pid, read, _chunk in self.children:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                os.close(read)
            except OSError:
                pass
        self.children.clear()


def map_chunks(func: Callable[[Sequence[T]], list[R]], items: Sequence[T]) -> list[R]:
    """`func(items)`, computed in chunks across processes; results in the order of `items`."""
    return ChunkMap(func, items).result()
