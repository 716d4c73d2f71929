"""`comunicast resolve`: settle unknown outcomes; refuse what is not unknown."""

from __future__ import annotations

from pathlib import Path

from fakes import FakeWaha, Reply
from publish_support import draft, make_project, rows, run, run_json, waha

from comunicast.locks import PublicationLock


def _unknown(tmp_path: Path) -> tuple[Path, Path, FakeWaha]:
    wa = FakeWaha().start()
    root = make_project(tmp_path, {"whatsapp": waha(wa.url, timeout=1)})
    path = draft(root, "ponte")
    wa.script(Reply.slow(2, deliver=False))
    assert run(root, "publish", str(path)).returncode == 5
    return root, path, wa


def test_resolve_failed_lets_the_next_run_send(tmp_path: Path) -> None:
    root, path, wa = _unknown(tmp_path)
    try:
        result = run(root, "resolve", str(path), "--sender", "whatsapp", "--as", "failed")
        assert result.returncode == 0, result.stderr
        assert "ponte → whatsapp" in result.stdout and "failed" in result.stdout
        [row] = rows(root)
        assert (row["state"], row["resolved_as"]) == ("failed", "failed")
        code, doc, _ = run_json(root, "publish", str(path))
        assert code == 0 and doc["publications"][0]["state"] == "sent"
        assert wa.delivered == 1
    finally:
        wa.stop()


def test_resolve_sent_marks_it_published(tmp_path: Path) -> None:
    root, path, wa = _unknown(tmp_path)
    try:
        assert run(root, "resolve", "ponte", "--sender", "whatsapp", "--as", "sent").returncode == 0
        code, log, _ = run_json(root, "log")
        assert code == 0
        assert log[0]["state"] == "sent" and log[0]["sent_at"] is not None
        assert log[0]["leaves_channel_at"] is not None
        assert run(root, "publish", str(path)).stdout.startswith("skipped")
        assert len(wa.requests) == 1
        # Nothing left to resolve: a usage error, and the row stays as it is.
        again = run(root, "resolve", "ponte", "--sender", "whatsapp", "--as", "failed")
        assert again.returncode == 2 and "nothing to resolve" in again.stderr
        assert rows(root)[0]["state"] == "sent"
    finally:
        wa.stop()


def test_resolve_unknown_publication_and_empty_ledger(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"console": {"adapter": "console"}})
    result = run(root, "resolve", "ponte", "--sender", "console", "--as", "sent")
    assert result.returncode == 2 and "nothing has been published" in result.stderr
    draft(root, "ponte")
    assert run(root, "publish", "ponte").returncode == 0
    result = run(root, "resolve", "altro", "--sender", "console", "--as", "sent")
    assert result.returncode == 2 and "no publication of 'altro'" in result.stderr
    assert run(root, "resolve", "ponte", "--sender", "console", "--as", "maybe").returncode == 2


def test_resolve_refuses_while_a_live_run_sends(tmp_path: Path) -> None:
    root, _path, wa = _unknown(tmp_path)
    try:
        lock = PublicationLock(root / ".comunicast" / "locks", "ponte", "whatsapp")
        assert lock.acquire()
        try:
            result = run(root, "resolve", "ponte", "--sender", "whatsapp", "--as", "sent")
            assert result.returncode == 1 and "another run" in result.stderr
        finally:
            lock.release()
        assert rows(root)[0]["state"] == "unknown"
    finally:
        wa.stop()


def test_a_draft_path_that_does_not_exist_is_exit_3(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"console": {"adapter": "console"}})
    draft(root, "ponte")
    assert run(root, "publish", "ponte").returncode == 0
    for ref in ("messages/gone.md", "messages"):
        result = run(root, "resolve", ref, "--sender", "console", "--as", "sent")
        assert result.returncode == 3, (ref, result.stderr)
        assert ref in result.stderr and "Traceback" not in result.stderr
        assert run(root, "log", "--draft", ref).returncode == 3
    assert rows(root)[0]["state"] == "sent"
