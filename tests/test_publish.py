"""`comunicast publish`: exactly once, skipped/refused/republish, check first, dry runs, --due.

Every test runs the installed CLI in a subprocess against real loopback servers.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import comunicast_exe
from fakes import FakeWaha, FakeWebhook
from publish_support import (
    WEBHOOK_SECRET,
    draft,
    events,
    make_project,
    rows,
    run,
    run_json,
    waha,
    webhook,
)


def test_publish_once_then_skipped_then_refused_then_republished(tmp_path: Path) -> None:
    with FakeWebhook(secret=WEBHOOK_SECRET) as hook:
        root = make_project(tmp_path, {"hook": webhook(hook.url + "/in")})
        path = draft(root, "ponte")

        code, doc, err = run_json(root, "publish", str(path))
        assert code == 0, err
        [pub] = doc["publications"]
        assert pub["state"] == "sent" and pub["sender"] == "hook" and pub["draft_id"] == "ponte"
        assert pub["remote_id"] == "wh-1" and pub["attempts"] == 1 and pub["error"] is None
        assert doc["exit_code"] == 0 and doc["version"] == 1
        assert hook.delivered == 1 and hook.problems == []
        [row] = rows(root)
        assert row["state"] == "sent" and row["revision"].startswith("v1:")
        assert row["revision"] == hook.requests[0].json["revision"]

        # Same revision again: skipped, exit 0, nothing sent.
        code, doc, _ = run_json(root, "publish", "ponte")  # a draft id works too
        assert code == 0 and doc["publications"][0]["state"] == "skipped"
        assert len(hook.requests) == 1

        # Edited: refused (exit 1) unless --republish.
        draft(root, "ponte", body="Il ponte sul Po resta chiuso dal 2 al 6 dicembre per lavori.")
        code, doc, _ = run_json(root, "publish", str(path))
        assert code == 1
        refused = doc["publications"][0]
        assert refused["state"] == "refused" and "--republish" in refused["error"]
        assert len(hook.requests) == 1

        code, doc, _ = run_json(root, "publish", str(path), "--republish")
        assert code == 0 and doc["publications"][0]["state"] == "sent"
        assert hook.delivered == 2 and hook.duplicates() == {}
        assert [r["state"] for r in rows(root)] == ["sent", "sent"]


def test_draft_with_errors_sends_nothing(tmp_path: Path) -> None:
    with FakeWebhook(secret=WEBHOOK_SECRET) as hook:
        root = make_project(tmp_path, {"hook": webhook(hook.url)})
        bad = draft(root, "bad", body="Dettagli su http://www.comune.cremona.it/viabilita qui.")
        good = draft(root, "good")
        code, doc, _ = run_json(root, "publish", str(bad), str(good))
        assert code == 1
        states = {p["draft_id"]: p["state"] for p in doc["publications"]}
        assert states == {"bad": "refused", "good": "sent"}
        refusal = next(p for p in doc["publications"] if p["draft_id"] == "bad")
        assert "links.scheme" in refusal["error"]
        assert hook.delivered == 1
        assert [r["draft_id"] for r in rows(root)] == ["good"]


def test_unreadable_draft_is_reported_and_the_others_go(tmp_path: Path) -> None:
    with FakeWebhook(secret=WEBHOOK_SECRET) as hook:
        root = make_project(tmp_path, {"hook": webhook(hook.url)})
        broken = root / "messages" / "broken.md"
        broken.write_text("---\ntitle: [unclosed\nkind: avviso\n---\ntext\n", encoding="utf-8")
        good = draft(root, "good")
        result = run(root, "publish", str(broken), str(good))
        assert result.returncode == 1
        assert "broken.md:3:" in result.stderr and "invalid YAML" in result.stderr
        assert result.stdout.startswith("sent\tgood\thook")
        assert hook.delivered == 1


def test_dry_run_shows_text_and_target_and_touches_nothing(tmp_path: Path) -> None:
    with FakeWaha() as gateway:
        root = make_project(tmp_path, {"whatsapp": waha(gateway.url)})
        path = draft(root, "ponte", body="Il **ponte** resta chiuso.")
        result = run(root, "publish", str(path), "--dry-run")
        assert result.returncode == 0, result.stderr
        assert "ponte → whatsapp (whatsapp)" in result.stdout
        assert "*Ponte sul Po chiuso*\n\nIl *ponte* resta chiuso." in result.stdout
        assert gateway.requests == []
        assert not (root / ".comunicast").exists()

        code, doc, _ = run_json(root, "publish", str(path), "--dry-run")
        assert code == 0 and doc["publications"][0]["state"] == "dry-run"
        assert not (root / ".comunicast").exists()


def test_dry_run_after_publishing_reports_skipped_without_writing(tmp_path: Path) -> None:
    with FakeWebhook(secret=WEBHOOK_SECRET) as hook:
        root = make_project(tmp_path, {"hook": webhook(hook.url)})
        path = draft(root, "ponte")
        assert run(root, "publish", str(path)).returncode == 0
        before = (rows(root), events(root))
        code, doc, _ = run_json(root, "publish", str(path), "--dry-run")
        assert code == 0 and doc["publications"][0]["state"] == "skipped"
        assert (rows(root), events(root)) == before and hook.delivered == 1


def test_to_overrides_senders_and_unknown_sender_is_config_error(tmp_path: Path) -> None:
    with FakeWebhook(secret=WEBHOOK_SECRET) as a, FakeWebhook(secret=WEBHOOK_SECRET) as b:
        root = make_project(
            tmp_path, {"a": webhook(a.url), "b": webhook(b.url)}, default=["a"]
        )
        path = draft(root, "ponte")
        result = run(root, "publish", str(path), "--to", "b")
        assert result.returncode == 0, result.stderr
        assert (a.delivered, b.delivered) == (0, 1)
        result = run(root, "publish", str(path), "--to", "nope")
        assert result.returncode == 3
        assert "unknown sender 'nope'" in result.stderr and "Traceback" not in result.stderr
        # The mistake is in the command line, not at some line of comunicast.yaml.
        assert result.stderr.startswith("error: --to: unknown sender 'nope' (configured: a, b)")
        assert (a.delivered, b.delivered) == (0, 1)


def test_missing_secret_is_config_error_naming_the_variable(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"hook": webhook("http://127.0.0.1:9/x")})
    path = draft(root, "ponte")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMUNICAST_", "HOOK_"))}
    result = subprocess.run([*comunicast_exe(), "publish", str(path), "--format", "json"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 3
    doc = json.loads(result.stdout)
    assert "HOOK_SECRET" in doc["publications"][0]["error"]
    assert rows(root) == []


def test_missing_path_is_exit_3_and_no_arguments_is_usage(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"c": {"adapter": "console"}})
    result = run(root, "publish", "messages/nope.md")
    assert result.returncode == 3 and "does not exist" in result.stderr
    assert run(root, "publish").returncode == 2
    assert run(root, "publish", "x", "--due").returncode == 2


def test_console_sender_in_json_mode_keeps_stdout_json(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"console": {"adapter": "console"}})
    path = draft(root, "ponte")
    code, doc, err = run_json(root, "publish", str(path))
    assert code == 0 and doc["publications"][0]["state"] == "sent"
    assert "*Ponte sul Po chiuso*" in err  # the console sender's text went to stderr


def test_due_selects_sends_in_order_and_is_quiet_afterwards(tmp_path: Path) -> None:
    with FakeWebhook(secret=WEBHOOK_SECRET) as hook:
        root = make_project(tmp_path, {"hook": webhook(hook.url)})
        draft(root, "a-old", extra="publish_at: 2026-11-30 08:00")
        draft(root, "b-new", extra="publish_at: 2026-12-01 08:30")
        draft(root, "c-emergency", kind="emergenza", extra="publish_at: 2026-12-01 08:45")
        draft(root, "d-future", extra="publish_at: 2026-12-01 10:00")
        draft(root, "e-expired", extra="publish_at: 2026-11-29 08:00\nexpires_at: 2026-12-01 08:00")
        draft(root, "f-unscheduled")

        result = run(root, "publish", "--due")
        assert result.returncode == 0, result.stderr
        sent = [r.json["draft_id"] for r in hook.requests]
        assert sent == ["c-emergency", "a-old", "b-new"]
        assert hook.delivered == 3

        again = run(root, "publish", "--due")
        assert again.returncode == 0 and again.stdout == ""
        assert len(hook.requests) == 3

        # An edit after publishing is not republished by cron, and cron stays quiet about it.
        draft(root, "a-old", body="Testo corretto del messaggio.", extra="publish_at: 2026-11-30 08:00")
        again = run(root, "publish", "--due")
        assert again.returncode == 0 and again.stdout == ""
        assert len(hook.requests) == 3


def test_due_is_quiet_about_a_sent_draft_that_now_fails_check(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"archivio": {"adapter": "outbox", "path": "outbox/"}})
    draft(root, "a-sent", extra="publish_at: 2026-11-30 08:00")
    assert run(root, "publish", "--due").returncode == 0
    # A stricter rule later (or an image removed after publishing): cron never resends an
    # already-published draft, so its check errors are not news and must not mail every run.
    with open(root / "comunicast.yaml", "a", encoding="utf-8") as config:
        config.write("rules:\n  length.text: {max_chars: 20}\n")
    result = run(root, "publish", "--due")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    # A draft not yet sent with the same errors is still refused, loudly.
    draft(root, "b-new", extra="publish_at: 2026-11-30 09:00")
    code, doc, _ = run_json(root, "publish", "--due")
    assert code == 1
    assert [(p["draft_id"], p["state"]) for p in doc["publications"]] == [("b-new", "refused")]
    # Named explicitly, the sent draft's errors are shown as before.
    assert run(root, "publish", "a-sent").returncode == 1


def test_due_with_nothing_due_is_silent(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"console": {"adapter": "console"}})
    draft(root, "later", extra="publish_at: 2027-01-01 08:00")
    result = run(root, "publish", "--due")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not (root / ".comunicast").exists()


def _publish_at_a_terminal(root: Path, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run publish with a pseudo-terminal as stdin (a person at the keyboard), typing `answer`."""
    import pty

    from publish_support import NOW, SECRETS_ENV

    env = {k: v for k, v in os.environ.items() if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    env.update(SECRETS_ENV, COMUNICAST_NOW=NOW)
    master, slave = pty.openpty()
    try:
        os.write(master, answer.encode())  # typed ahead: the terminal holds it for the prompt
        return subprocess.run([*comunicast_exe(), "publish", *args], cwd=root, env=env,
                              stdin=slave, capture_output=True, text=True, timeout=60,
                              check=False)
    finally:
        os.close(master)
        os.close(slave)


def test_interactive_terminal_asks_before_sending_to_real_senders(tmp_path: Path) -> None:
    with FakeWebhook(secret=WEBHOOK_SECRET) as hook:
        root = make_project(tmp_path, {"hook": webhook(hook.url), "console": {"adapter": "console"}})
        path = draft(root, "ponte")
        declined = _publish_at_a_terminal(root, "n\n", str(path), "--to", "hook")
        assert declined.returncode == 0
        assert "ponte → hook (webhook)" in declined.stderr and "nothing sent" in declined.stderr
        assert hook.requests == [] and rows(root) == []

        # The console reaches no audience: no question asked.
        local = _publish_at_a_terminal(root, "", str(path), "--to", "console")
        assert local.returncode == 0 and "Send now?" not in local.stderr

        accepted = _publish_at_a_terminal(root, "y\n", str(path), "--to", "hook")
        assert accepted.returncode == 0 and "Send now?" in accepted.stderr
        assert hook.delivered == 1

        draft(root, "altro", body="Il mercato si sposta in piazza Stradivari.")
        forced = _publish_at_a_terminal(root, "", "altro", "--to", "hook", "--yes")
        assert forced.returncode == 0 and "Send now?" not in forced.stderr
        assert hook.delivered == 2


def test_an_italian_office_answers_si(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMUNICAST_LANG", "it")
    with FakeWebhook(secret=WEBHOOK_SECRET) as hook:
        root = make_project(tmp_path, {"hook": webhook(hook.url)})
        path = draft(root, "ponte")
        declined = _publish_at_a_terminal(root, "no\n", str(path), "--to", "hook")
        assert declined.returncode == 0 and "Invio adesso? [s/N]" in declined.stderr
        assert "Sto per pubblicare:" in declined.stderr and "non ho inviato nulla" in declined.stderr
        assert hook.requests == []
        accepted = _publish_at_a_terminal(root, "sì\n", str(path), "--to", "hook")
        assert accepted.returncode == 0 and hook.delivered == 1, accepted.stderr
