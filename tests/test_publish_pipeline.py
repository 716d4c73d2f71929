"""The pipeline in process: retry policy, budget, min_interval, typed errors → states (real SQLite).

A scripted adapter stands in for the platform and a fake clock for time, so the policy is tested
exactly; the HTTP behaviour itself is covered end to end in test_publish_faults.py.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from publish_support import make_project

from comunicast.config import Config, load_config
from comunicast.drafts import Draft, Kind
from comunicast.ledger import Ledger
from comunicast.publish import Outcome, Planned, Publisher, due_drafts
from comunicast.revision import canonical_payload, idempotency_key, revision_of
from comunicast.senders.base import (
    Limits,
    MaybeDelivered,
    Message,
    NotDelivered,
    Receipt,
    SenderOptions,
)
from comunicast.senders.registry import SenderInstance, mask_secrets

SECRET = "s3cret-value-for-scrubbing"


class Clock:
    """A monotonic clock that only moves when the pipeline sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Scripted:
    """An adapter whose answers are queued by the test."""

    name: ClassVar[str] = "scripted"
    limits: ClassVar[Limits] = Limits(target="plain")
    Options: ClassVar[type[SenderOptions]] = SenderOptions
    script: ClassVar[list[BaseException | Receipt]] = []
    calls: ClassVar[list[tuple[str, float]]] = []
    clock: ClassVar[Clock | None] = None

    def __init__(self, instance: str, options: Any, config: Config) -> None:
        self.instance = instance

    def send(self, message: Message) -> Receipt:
        Scripted.calls.append((message.draft_id, Scripted.clock() if Scripted.clock else 0.0))
        answer = Scripted.script.pop(0) if Scripted.script else Receipt(remote_id="ok")
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self) -> None:
        pass


class Idempotent(Scripted):
    limits: ClassVar[Limits] = Limits(target="plain", idempotency=True)


@dataclass
class Env:
    config: Config
    ledger: Ledger
    clock: Clock

    def publisher(self, **kw: Any) -> Publisher:
        return Publisher(self.config, self.ledger, sleep=self.clock.sleep, clock=self.clock,
                         rng=random.Random(7), **kw)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    make_project(tmp_path, {"x": {"adapter": "console"}},
                 publish={"retry_budget": 30, "max_attempts": 5})
    config = load_config(tmp_path / "comunicast.yaml")
    clock = Clock()
    Scripted.script, Scripted.calls, Scripted.clock = [], [], clock
    with Ledger.open(config.ledger_path) as ledger:
        yield Env(config, ledger, clock)


def item(draft_id: str = "d", *, adapter: type[Scripted] = Scripted, min_interval: float = 0,
         text: str = "Testo") -> Planned:
    options = SenderOptions(min_interval=min_interval)
    inst = SenderInstance("x", adapter.name, adapter, options, (SECRET,))  # type: ignore[arg-type]
    revision = revision_of(canonical_payload(target="plain", text=text, image=None, image_alt=None))
    message = Message(draft_id=draft_id, sender="x", revision=revision, kind="avviso",
                      title="T", text=text, markdown=text, plain=text, target="plain",
                      idempotency_key=idempotency_key(draft_id, "x", revision))
    draft = Draft(path=Path(f"{draft_id}.md"), id=draft_id, title="T", kind=Kind.AVVISO,
                  body=text, format="md")
    return Planned(draft, inst, message)


def one(env: Env, planned: Planned, **kw: Any) -> Outcome:
    [outcome] = env.publisher(**kw).run([planned])
    return outcome


def test_transient_failures_back_off_then_succeed(env: Env) -> None:
    Scripted.script = [NotDelivered("503", retryable=True), NotDelivered("502", retryable=True)]
    outcome = one(env, item())
    assert (outcome.state, outcome.attempts, outcome.remote_id) == ("sent", 3, "ok")
    # Full jitter: each wait is within [0, 0.5 * 2**n].
    assert len(env.clock.sleeps) == 2
    assert 0 <= env.clock.sleeps[0] <= 0.5 and 0 <= env.clock.sleeps[1] <= 1.0
    [pub] = env.ledger.publications()
    assert (pub.state, pub.attempts) == ("sent", 3)
    assert [e["event"] for e in env.ledger.events(pub.id)] == [
        "claim", "attempt", "retry", "attempt", "retry", "attempt", "sent"]


def test_retry_after_is_honoured(env: Env) -> None:
    Scripted.script = [NotDelivered("429", retryable=True, retry_after=7)]
    outcome = one(env, item())
    assert outcome.state == "sent"
    assert 7 <= env.clock.sleeps[0] <= 7 + 1.0


def test_retry_after_beyond_the_budget_gives_up(env: Env) -> None:
    Scripted.script = [NotDelivered("429", retryable=True, retry_after=45)]
    outcome = one(env, item())
    assert (outcome.state, outcome.attempts, outcome.exit_code) == ("failed", 1, 4)
    assert env.clock.sleeps == []


def test_budget_is_shared_by_the_run(env: Env) -> None:
    Scripted.script = [NotDelivered("down", retryable=True)] * 100
    outcomes = env.publisher().run([item("a"), item("b")])
    assert all(o.state == "failed" for o in outcomes)
    assert sum(env.clock.sleeps) <= 30
    assert outcomes[0].attempts <= 5  # max_attempts


def test_not_retryable_fails_at_once(env: Env) -> None:
    Scripted.script = [NotDelivered("400 Bad Request")]
    outcome = one(env, item())
    assert (outcome.state, outcome.attempts) == ("failed", 1) and len(Scripted.calls) == 1


def test_maybe_delivered_is_unknown_and_not_retried(env: Env) -> None:
    Scripted.script = [MaybeDelivered("read timeout")]
    outcome = one(env, item())
    assert (outcome.state, outcome.exit_code, len(Scripted.calls)) == ("unknown", 5, 1)
    assert env.ledger.publications()[0].state == "unknown"


def test_maybe_delivered_is_retried_when_the_platform_honours_idempotency(env: Env) -> None:
    Scripted.script = [MaybeDelivered("read timeout")]
    outcome = one(env, item(adapter=Idempotent))
    assert (outcome.state, len(Scripted.calls)) == ("sent", 2)


def test_a_crashing_adapter_is_unknown_not_a_crash(env: Env) -> None:
    Scripted.script = [RuntimeError("bug in plugin")]
    outcome = one(env, item())
    assert outcome.state == "unknown" and "RuntimeError: bug in plugin" in (outcome.error or "")


def test_secrets_are_masked_even_if_an_adapter_leaks_them(env: Env) -> None:
    Scripted.script = [NotDelivered(f"refused with key {SECRET}")]
    outcome = one(env, item())
    assert SECRET not in (outcome.error or "") and "***" in (outcome.error or "")
    assert SECRET not in (env.ledger.publications()[0].last_error or "")


def test_min_interval_between_sends_of_one_run(env: Env) -> None:
    outcomes = env.publisher().run([item("a", min_interval=3), item("b", min_interval=3)])
    assert [o.state for o in outcomes] == ["sent", "sent"]
    (_, first), (_, second) = Scripted.calls
    assert second - first >= 3


def test_dry_run_writes_nothing(env: Env) -> None:
    outcome = one(env, item(), dry_run=True)
    assert outcome.state == "dry-run" and outcome.text == "Testo"
    assert env.ledger.publications() == [] and Scripted.calls == []


def test_interrupt_during_a_request_leaves_unknown(env: Env) -> None:
    Scripted.script = [KeyboardInterrupt()]
    with pytest.raises(KeyboardInterrupt):
        one(env, item())
    assert env.ledger.publications()[0].state == "unknown"


def test_mask_secrets_masks_url_encoded_forms() -> None:
    token = "123:AA/b+c"
    text = "https://x/bot123%3AAA%2Fb%2Bc/send, /bot123:AA/b%2Bc/send and 123:AA/b+c"
    assert mask_secrets(text, [token]) == "https://x/bot***/send, /bot***/send and ***"


def test_due_order_emergencies_first_then_oldest() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Rome")

    def d(name: str, kind: Kind, at: str | None, expires: str | None = None) -> Draft:
        return Draft(path=Path(name), id=name, title="T", kind=kind, body="b", format="md",
                     publish_at=datetime.fromisoformat(at).replace(tzinfo=tz) if at else None,
                     expires_at=datetime.fromisoformat(expires).replace(tzinfo=tz)
                     if expires else None)

    now = datetime(2026, 12, 1, 9, 0, tzinfo=tz)
    drafts = [d("new", Kind.AVVISO, "2026-12-01 08:00"), d("old", Kind.NOTIZIA, "2026-11-01 08:00"),
              d("sos", Kind.EMERGENZA, "2026-12-01 08:59"), d("later", Kind.AVVISO, "2026-12-01 09:01"),
              d("gone", Kind.AVVISO, "2026-11-01 08:00", "2026-12-01 09:00"),
              d("manual", Kind.AVVISO, None)]
    assert [x.id for x in due_drafts(drafts, now)] == ["sos", "old", "new"]


def test_interrupt_while_waiting_min_interval_leaves_nothing_to_resolve(env: Env) -> None:
    """The pause between two sends comes before the claim: b was never claimed, so neither a
    `failed` nor an `unknown` row stands for it, and the next run sends it."""
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    publisher = env.publisher()
    publisher.sleep = interrupted
    with pytest.raises(KeyboardInterrupt):
        publisher.run([item("a", min_interval=3), item("b", min_interval=3)])
    states = {p.draft_id: p.state for p in env.ledger.publications()}
    assert states == {"a": "sent"}  # b never reached the platform, nor the ledger
    assert [d for d, _ in Scripted.calls] == ["a"]
