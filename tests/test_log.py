"""`comunicast log`: rows per (draft, sender, revision), JSON fields, channel expiry, live vs dead."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from fakes import FakeTelegram, FakeWaha, FakeWebhook
from publish_support import (
    WEBHOOK_SECRET,
    draft,
    make_project,
    run,
    run_json,
    telegram,
    waha,
    webhook,
)

from comunicast.ledger import Ledger
from comunicast.locks import PublicationLock

FIELDS = {"draft_id", "sender", "state", "revision", "remote_id", "attempts", "claimed_at",
          "sent_at", "leaves_channel_at"}


def test_log_json_has_the_contract_fields_and_channel_expiry(tmp_path: Path) -> None:
    with FakeWaha() as wa, FakeTelegram() as tg:
        root = make_project(tmp_path, {"whatsapp": waha(wa.url), "telegram": telegram(tg.url)})
        first = draft(root, "primo")
        second = draft(root, "secondo", body="Il mercato si sposta in piazza Stradivari.")
        assert run(root, "publish", str(first)).returncode == 0
        assert run(root, "publish", str(second), "--to", "whatsapp").returncode == 0

        code, log, _ = run_json(root, "log")
        assert code == 0 and len(log) == 3
        for row in log:
            assert FIELDS <= set(row)
            assert row["state"] == "sent" and row["attempts"] == 1
            assert row["revision"].startswith("v1:")
            sent = datetime.fromisoformat(row["sent_at"])
            assert sent.utcoffset() is not None  # ISO 8601 with offset
        by_key = {(r["draft_id"], r["sender"]): r for r in log}
        wa_row = by_key[("primo", "whatsapp")]
        assert datetime.fromisoformat(wa_row["leaves_channel_at"]) - datetime.fromisoformat(
            wa_row["sent_at"]) == timedelta(days=30)
        assert by_key[("primo", "telegram")]["leaves_channel_at"] is None
        assert wa_row["remote_id"] == wa.deliveries[0].remote_id
        assert by_key[("primo", "telegram")]["remote_id"] == tg.deliveries[0].remote_id
        # Most recent first.
        assert log[0]["draft_id"] == "secondo"

        code, only, _ = run_json(root, "log", "--draft", "primo")
        assert {r["draft_id"] for r in only} == {"primo"} and len(only) == 2
        code, only, _ = run_json(root, "log", "--draft", str(first))  # a path works too
        assert len(only) == 2
        code, limited, _ = run_json(root, "log", "--limit", "1")
        assert len(limited) == 1

        text = run(root, "log")
        lines = text.stdout.splitlines()
        assert len(lines) == 3 and all("\tsent\t" in line for line in lines)
        assert "secondo\twhatsapp" in lines[0]


def test_log_without_ledger_says_so_and_creates_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"console": {"adapter": "console"}})
    result = run(root, "log")
    assert result.returncode == 0 and result.stdout == ""
    assert "nothing published yet" in result.stderr
    code, log, _ = run_json(root, "log")
    assert code == 0 and log == []
    assert not (root / ".comunicast").exists()


def test_log_tells_a_live_sending_run_from_a_dead_one(tmp_path: Path) -> None:
    with FakeWebhook(secret=WEBHOOK_SECRET) as hook:
        root = make_project(tmp_path, {"hook": webhook(hook.url)})
        path = draft(root, "ponte")
        state = root / ".comunicast"
        # Play a run that claimed the publication and is still sending: it holds the lock.
        lock = PublicationLock(state / "locks", "ponte", "hook")
        assert lock.acquire()
        with Ledger.open(state / "ledger.sqlite3") as ledger:
            ledger.claim("ponte", "hook", "v1:other-run", pid=1)
        try:
            _, log, _ = run_json(root, "log")
            assert log[0]["state"] == "sending"
            code, doc, _ = run_json(root, "publish", str(path))
            assert code == 0 and doc["publications"][0]["state"] == "in-progress"
            assert hook.requests == []
        finally:
            lock.release()  # the run "dies"
        _, log, _ = run_json(root, "log")
        assert log[0]["state"] == "unknown"
        code, doc, _ = run_json(root, "publish", str(path))
        assert code == 5 and doc["publications"][0]["state"] == "unknown"
        assert hook.requests == []
