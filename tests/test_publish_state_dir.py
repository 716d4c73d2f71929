"""A state folder (.comunicast/) comunicast cannot write: a clear error, never a traceback."""

from __future__ import annotations

from pathlib import Path

from conftest import immutable
from publish_support import draft, make_project, rows, run, run_json


def test_unusable_locks_folder_is_a_clear_config_error(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"archivio": {"adapter": "outbox", "path": "outbox/"}})
    path = draft(root, "ponte")
    (root / ".comunicast").mkdir()
    (root / ".comunicast" / "locks").write_text("not a folder\n", encoding="utf-8")

    code, doc, err = run_json(root, "publish", str(path))
    assert code == 3, err
    [pub] = doc["publications"]
    assert pub["state"] == "refused" and "locks" in pub["error"]
    assert "internal error" not in err and "Traceback" not in err
    assert not (root / "outbox").exists()
    assert [r["state"] for r in rows(root)] == []

    result = run(root, "resolve", "ponte", "--sender", "archivio", "--as", "sent")
    assert result.returncode == 3, result.stderr
    assert "locks" in result.stderr and "internal error" not in result.stderr


def test_read_only_state_folder(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"archivio": {"adapter": "outbox", "path": "outbox/"}})
    first = draft(root, "ponte")
    second = draft(root, "scuole", title="Scuole chiuse")
    assert run(root, "publish", str(first)).returncode == 0
    with immutable(root / ".comunicast"), immutable(root / ".comunicast" / "locks"):
        result = run(root, "publish", str(second))
        assert result.returncode == 3, result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert "backup" not in result.stderr  # nothing is wrong with the ledger itself
        assert "permission" in result.stderr or "writ" in result.stderr
        assert not (root / "outbox" / "scuole.archivio.json").exists()

        # Reading needs no writing: log and dry runs still work.
        code, doc, err = run_json(root, "log")
        assert code == 0, err
        assert [(r["draft_id"], r["state"]) for r in doc] == [("ponte", "sent")]
        code, doc, err = run_json(root, "publish", str(first), str(second), "--dry-run")
        assert code == 0, err
        assert [p["state"] for p in doc["publications"]] == ["skipped", "dry-run"]
