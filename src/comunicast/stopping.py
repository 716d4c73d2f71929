"""A graceful stop: on SIGTERM or SIGHUP, finish what is in flight, then start nothing new.

systemd stopping a timer's service, a shutdown, a closed terminal: the first SIGTERM or SIGHUP
only sets a flag. A request already on the wire goes on up to its own timeout (Python retries an
interrupted system call when the handler does not raise, PEP 475), its outcome is recorded, and
every loop that sends asks `stop.requested` before it starts the next piece of work. A wait
(`min_interval`, a retry's backoff) made through `stop.wait` ends at once. A second signal ends
the process on the spot, as the signal's default action does: what was `sending` stays so, and
the next run reports it `unknown`.

Usage, for any command that sends (publish today; edits and withdrawals alike)::

    stop = StopFlag()
    with stop.catching():
        for item in work:
            if stop.requested:
                ...  # report the rest as not attempted
            if not stop.wait(pause):
                ...  # stopped while waiting: nothing more is sent
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: The signals that ask for a graceful stop (SIGINT keeps Python's KeyboardInterrupt).
GRACEFUL = (signal.SIGTERM, signal.SIGHUP)


class StopFlag:
    """Set by the first of `GRACEFUL`'s signals while `catching()`; never set otherwise."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self._wake: tuple[int, int] | None = None  # a pipe the handler writes to

    @property
    def requested(self) -> bool:
        """True once a stop was asked for."""
        return self.signal is not None

    @property
    def name(self) -> str:
        """The name of the signal that asked for the stop (`SIGTERM`), or ""."""
        return self.signal.name if self.signal is not None else ""

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds`, or less when a stop is asked for; True when the whole wait passed."""
        if self.requested:
            return False
        if seconds <= 0:
            return True
        if self._wake is None:
            time.sleep(seconds)
            return not self.requested
        deadline = time.monotonic() + seconds
        while not self.requested:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            select.select([self._wake[0]], [], [], left)
        return False

    @contextmanager
    def catching(self, signals: tuple[signal.Signals, ...] = GRACEFUL) -> Iterator[StopFlag]:
        """Turn `signals` into a stop request for the duration of the block (main thread only;
        elsewhere the block runs with the signals' usual effect)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        self._wake = (read, write)
        previous = {sig: signal.signal(sig, self._handle) for sig in signals}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._wake = None
            os.close(read)
            os.close(write)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None:
            # A second signal: stop now, as the default action does (nothing is recorded).
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.signal = signal.Signals(signum)
        if self._wake is not None:
            try:
                os.write(self._wake[1], b"\0")
            except OSError:  # the pipe is full: a wait is being woken already
                pass
