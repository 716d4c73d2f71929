"""Fault tests: 429, 503, 400, read timeouts, refused connections, against loopback platforms.

Every run is the installed CLI in a subprocess. Canary secrets are configured for every adapter,
and each test checks that they appear in no stdout, stderr, ledger byte or `log` output.
"""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeTelegram, FakeWaha, FakeWebhook, Reply, closed_port
from publish_support import draft, ledger_bytes, make_project, rows, run, run_json, telegram, waha

CANARY_KEY = "canary-waha-key-7e3f0c9a"
CANARY_TOKEN = "555444333:AAcanaryCANARYcanaryCANARYcanary99"
CANARY_SECRET = "canary-hmac-secret-4b2d9e1f0a"
CANARY_ENV = {
    "WAHA_API_KEY": CANARY_KEY,
    "TELEGRAM_BOT_TOKEN": CANARY_TOKEN,
    "HOOK_SECRET": CANARY_SECRET,
}
CANARIES = (CANARY_KEY, CANARY_TOKEN, CANARY_SECRET)


class Runs:
    """Runs the CLI with canary secrets and keeps every output for the final secret scan."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.outputs: list[str] = []

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run(self.root, *args, env=CANARY_ENV)
        self.outputs += [result.stdout, result.stderr]
        return result

    def json(self, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
        code, doc, err = run_json(self.root, *args, env=CANARY_ENV)
        self.outputs += [str(doc), err]
        return code, doc, err

    def assert_no_secrets(self) -> None:
        for args in (("log", "--format", "json"), ("log",), ("senders", "--format", "json")):
            self(*args)
        self("--debug", "publish", "--due")
        stored = ledger_bytes(self.root)
        for canary in CANARIES:
            for text in self.outputs:
                assert canary not in text
            assert canary.encode() not in stored
            # Not even a fragment long enough to identify it.
            assert canary[-12:].encode() not in stored


@pytest.fixture
def gateways() -> Iterator[tuple[FakeWaha, FakeTelegram, FakeWebhook]]:
    with FakeWaha(api_key=CANARY_KEY) as wa, FakeTelegram(token=CANARY_TOKEN) as tg, \
            FakeWebhook(secret=CANARY_SECRET) as hook:
        yield wa, tg, hook


def project(root: Path, gateways: tuple[FakeWaha, FakeTelegram, FakeWebhook], **kw: object) -> Path:
    wa, tg, hook = gateways
    senders = {
        "whatsapp": waha(wa.url),
        "telegram": telegram(tg.url),
        "hook": {"adapter": "webhook", "url": hook.url + "/hook", "secret": "${HOOK_SECRET}",
                 "timeout": 5},
    }
    return make_project(root, senders, **kw)  # type: ignore[arg-type]


def test_429_with_retry_after_waits_then_delivers_once(tmp_path: Path, gateways) -> None:  # type: ignore[no-untyped-def]
    wa, tg, _ = gateways
    root = project(tmp_path, gateways, default=["whatsapp", "telegram"])
    path = draft(root, "ponte")
    wa.script(Reply.rate_limited(1.5))
    tg.script(Reply.rate_limited(1))
    runs = Runs(root)
    code, doc, err = runs.json("publish", str(path))
    assert code == 0, err
    assert {p["sender"]: (p["state"], p["attempts"]) for p in doc["publications"]} == {
        "whatsapp": ("sent", 2), "telegram": ("sent", 2)}
    assert wa.delivered == 1 and tg.delivered == 1
    assert wa.requests[1].received_at - wa.requests[0].received_at >= 1.5
    assert tg.requests[1].received_at - tg.requests[0].received_at >= 1.0
    assert wa.problems == [] and tg.problems == []
    runs.assert_no_secrets()


def test_503_then_success_delivers_once(tmp_path: Path, gateways) -> None:  # type: ignore[no-untyped-def]
    wa, _, _ = gateways
    root = project(tmp_path, gateways, default=["whatsapp"])
    path = draft(root, "ponte")
    wa.script(Reply.error(503, "Service Unavailable"))
    runs = Runs(root)
    code, doc, _ = runs.json("publish", str(path))
    assert code == 0
    assert doc["publications"][0]["state"] == "sent" and doc["publications"][0]["attempts"] == 2
    assert wa.delivered == 1 and len(wa.requests) == 2 and wa.duplicates() == {}
    [row] = rows(root)
    assert row["state"] == "sent" and row["attempts"] == 2 and row["remote_id"]
    runs.assert_no_secrets()


def test_400_fails_without_retry_exit_4(tmp_path: Path, gateways) -> None:  # type: ignore[no-untyped-def]
    _, tg, _ = gateways
    root = project(tmp_path, gateways, default=["telegram"])
    path = draft(root, "ponte")
    tg.script(Reply.error(400, "Bad Request: chat not found"))
    runs = Runs(root)
    code, doc, _ = runs.json("publish", str(path))
    assert code == 4 and doc["exit_code"] == 4
    [pub] = doc["publications"]
    assert pub["state"] == "failed" and pub["attempts"] == 1
    assert "chat not found" in pub["error"]
    assert len(tg.requests) == 1 and tg.delivered == 0
    assert rows(root)[0]["state"] == "failed"
    # A failed publication is sent again by the next run.
    code, doc, _ = runs.json("publish", str(path))
    assert code == 0 and doc["publications"][0]["state"] == "sent"
    assert tg.delivered == 1
    runs.assert_no_secrets()


def test_read_timeout_after_receipt_is_unknown_and_never_resent(tmp_path: Path, gateways) -> None:  # type: ignore[no-untyped-def]
    wa, _, _ = gateways
    root = make_project(tmp_path, {"whatsapp": waha(wa.url, timeout=1)})
    path = draft(root, "ponte")
    wa.script(Reply.slow(3))
    runs = Runs(root)
    code, doc, err = runs.json("publish", str(path))
    assert code == 5 and doc["exit_code"] == 5
    assert doc["publications"][0]["state"] == "unknown"
    assert "comunicast resolve" in err
    assert len(wa.requests) == 1 and wa.delivered == 1  # it did go out

    # Neither an explicit run, --republish, nor cron sends it again.
    for args in (("publish", str(path)), ("publish", str(path), "--republish")):
        again = runs(*args)
        assert again.returncode == 5 and again.stdout.startswith("unknown\tponte\twhatsapp")
    draft(root, "ponte", extra="publish_at: 2026-12-01 08:00")
    assert runs("publish", "--due").returncode == 5
    assert len(wa.requests) == 1

    code, log, _ = runs.json("log")
    assert code == 0 and [r["state"] for r in log] == ["unknown"]
    settled = runs("resolve", "ponte", "--sender", "whatsapp", "--as", "sent")
    assert settled.returncode == 0, settled.stderr
    # The edited draft (publish_at added) renders the same text: same revision, skipped.
    assert runs("publish", str(path)).stdout.startswith("skipped\tponte\twhatsapp")
    assert runs("publish", "--due").stdout == ""
    assert len(wa.requests) == 1 and wa.delivered == 1
    runs.assert_no_secrets()


def test_webhook_timeout_is_retried_with_the_same_key(tmp_path: Path, gateways) -> None:  # type: ignore[no-untyped-def]
    _, _, hook = gateways
    root = make_project(tmp_path, {"hook": {
        "adapter": "webhook", "url": hook.url, "secret": "${HOOK_SECRET}", "timeout": 1}})
    path = draft(root, "ponte")
    hook.script(Reply.slow(2))
    runs = Runs(root)
    code, doc, _ = runs.json("publish", str(path))
    assert code == 0 and doc["publications"][0]["state"] == "sent"
    keys = {r.header("idempotency-key") for r in hook.requests}
    assert len(hook.requests) >= 2 and len(keys) == 1
    assert hook.delivered == 1 and hook.duplicates() == {}
    runs.assert_no_secrets()


def test_connection_refused_is_retried_within_budget_then_failed(tmp_path: Path) -> None:
    port = closed_port()
    root = make_project(
        tmp_path,
        {"whatsapp": waha(f"http://127.0.0.1:{port}"),
         "telegram": telegram(f"http://127.0.0.1:{port}")},
        publish={"retry_budget": 3, "max_attempts": 10},
    )
    path = draft(root, "ponte")
    runs = Runs(root)
    started = time.monotonic()
    code, doc, _ = runs.json("publish", str(path))
    elapsed = time.monotonic() - started
    assert code == 4
    states = {p["sender"]: (p["state"], p["attempts"]) for p in doc["publications"]}
    assert {state for state, _ in states.values()} == {"failed"}
    # The budget is per run: the first publication retries; the second may find it spent.
    assert states["whatsapp"][1] >= 2
    assert all("Connection refused" in p["error"] for p in doc["publications"])
    assert elapsed < 3 + 5  # the budget, plus process start-up
    assert {r["state"] for r in rows(root)} == {"failed"}
    runs.assert_no_secrets()


def test_min_interval_spaces_sends_of_one_run(tmp_path: Path) -> None:
    with FakeWaha(api_key=CANARY_KEY) as wa:
        root = make_project(tmp_path, {"whatsapp": waha(wa.url, min_interval=1)})
        for name in ("a", "b", "c"):
            draft(root, name, body=f"Messaggio {name}: il ponte resta chiuso per lavori.",
                  extra="publish_at: 2026-12-01 08:00")
        result = run(root, "publish", "--due", env=CANARY_ENV)
        assert result.returncode == 0, result.stderr
        times = [r.received_at for r in wa.requests]
        assert len(times) == 3 and wa.delivered == 3
        assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))
