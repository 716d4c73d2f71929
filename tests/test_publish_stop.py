"""A graceful stop (SIGTERM/SIGHUP) in process: real signals sent to this process, a scripted
platform, a real ledger. The same with real processes and a slow server: test_publish_sigterm.py."""

from __future__ import annotations

import os
import signal
import time

import pytest
import test_publish_pipeline as pipeline
from test_publish_pipeline import Env, Scripted, item

from comunicast.publish import Publisher
from comunicast.senders.base import Message, NotDelivered, Receipt
from comunicast.stopping import StopFlag

env = pipeline.env  # the pipeline tests' fixture: a project, a real ledger, a fake clock


class SignalledWhileSending(Scripted):
    """The platform takes the message; SIGTERM reaches comunicast while the request is on the
    wire (the signal is delivered before `send` returns)."""

    signum = signal.SIGTERM

    def send(self, message: Message) -> Receipt:
        if not Scripted.calls:
            os.kill(os.getpid(), self.signum)
        return super().send(message)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_the_request_in_flight_is_finished_and_nothing_more_is_sent(
        env: Env, signum: signal.Signals) -> None:
    SignalledWhileSending.signum = signum
    stop = StopFlag()
    publisher = Publisher(env.config, env.ledger, stop=stop)
    with stop.catching():
        outcomes = publisher.run([item(d, adapter=SignalledWhileSending) for d in "abc"])
    assert [(o.draft_id, o.state) for o in outcomes] == [
        ("a", "sent"), ("b", "not-attempted"), ("c", "not-attempted")]
    assert outcomes[1].error == f"not attempted: the run was stopped by {signum.name}"
    assert [d for d, _ in Scripted.calls] == ["a"]
    # Only what was attempted is in the ledger: the others were never claimed.
    assert {p.draft_id: p.state for p in env.ledger.publications()} == {"a": "sent"}
    assert signal.getsignal(signum) is signal.SIG_DFL  # the handlers are put back


def test_a_stop_during_the_pause_between_sends_ends_it_at_once(env: Env) -> None:
    stop = StopFlag()
    publisher = Publisher(env.config, env.ledger, stop=stop)  # real sleeps
    with stop.catching():
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        previous = signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
        try:
            start = time.monotonic()
            outcomes = publisher.run([item("a", min_interval=30), item("b", min_interval=30)])
            elapsed = time.monotonic() - start
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    assert [o.state for o in outcomes] == ["sent", "not-attempted"]
    assert elapsed < 5  # not the 30 s of min_interval
    assert {p.draft_id: p.state for p in env.ledger.publications()} == {"a": "sent"}


def test_a_stop_during_a_retry_backoff_keeps_the_attempts_outcome(env: Env) -> None:
    Scripted.script = [NotDelivered("503 Service Unavailable", retryable=True)] * 3
    stop = StopFlag()

    def sleep(seconds: float) -> None:  # SIGTERM arrives while waiting to retry
        os.kill(os.getpid(), signal.SIGTERM)

    publisher = Publisher(env.config, env.ledger, stop=stop, sleep=sleep)
    with stop.catching():
        outcomes = publisher.run([item("a"), item("b")])
    assert [o.state for o in outcomes] == ["failed", "not-attempted"]
    assert outcomes[0].attempts == 1 and "not retried" in (outcomes[0].error or "")
    assert len(Scripted.calls) == 1
    [pub] = env.ledger.publications()
    assert (pub.draft_id, pub.state, pub.attempts) == ("a", "failed", 1)


def test_the_flag_waits_like_sleep_when_no_signal_comes() -> None:
    stop = StopFlag()
    start = time.monotonic()
    with stop.catching():
        assert stop.wait(0.05) is True
    assert time.monotonic() - start >= 0.05
    assert not stop.requested and stop.name == ""
