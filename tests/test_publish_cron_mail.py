"""Cron's mail over several runs of the installed `comunicast publish --due` (time set with
COMUNICAST_NOW): a problem is printed when it is new or changed, a due draft still refused again
once a day; the exit code, `--format json` and `check` stay honest at every run."""

from __future__ import annotations

import json
from pathlib import Path

from publish_support import draft, make_project, run

BROKEN = "---\ntitle: [Mercato di Natale\nkind: evento\n---\nIl mercato apre sabato.\n"
#: Due, but `links.scheme` refuses it (http://).
REFUSED = "Orari dello sportello: http://www.comune.cremona.it/orari"


def _project(root: Path, **publish: object) -> Path:
    make_project(root, {"archivio": {"adapter": "outbox", "path": "outbox/"}},
                 publish=publish or None)
    draft(root, "ponte", extra="publish_at: 2026-12-01 08:00")
    draft(root, "sportello", body=REFUSED, extra="publish_at: 2026-12-01 08:30")
    (root / "messages" / "mercato.md").write_text(BROKEN, encoding="utf-8")
    return root


def _due(root: Path, at: str) -> tuple[int, str, str]:
    done = run(root, "publish", "--due", env={"COMUNICAST_NOW": at})
    return done.returncode, done.stdout, done.stderr


def test_cron_is_told_once_per_change_and_reminded_daily(tmp_path: Path) -> None:
    root = _project(tmp_path)

    code, out, err = _due(root, "2026-12-01T09:00:00")
    assert code == 1
    assert "sent\tponte\tarchivio" in out
    assert "refused\tsportello\tarchivio" in out and "links.scheme" in out
    assert "mercato.md" in err and "hint: cron runs repeat this only when the draft changes" in err

    # Every five minutes after that: not a line (no mail), and the exit code still says 1.
    for minute in ("05", "10", "15"):
        assert _due(root, f"2026-12-01T09:{minute}:00") == (1, "", "")

    # Scripts and `check` are told everything, every time.
    done = run(root, "publish", "--due", "--format", "json",
               env={"COMUNICAST_NOW": "2026-12-01T09:16:00"})
    document = json.loads(done.stdout)
    assert done.returncode == document["exit_code"] == 1
    assert [(p["draft_id"], p["state"]) for p in document["publications"]] == [
        ("sportello", "refused")]
    assert [Path(e["path"]).name for e in document["errors"]] == ["mercato.md"]
    check = run(root, "check", "--format", "json")
    assert check.returncode == 1
    assert {Path(f["path"]).name for f in json.loads(check.stdout)["files"]
            if any(x["severity"] == "error" for x in f["findings"])} == {"mercato.md",
                                                                       "sportello.md"}

    # The broken draft is edited, still broken: told again, once; the refusal is not repeated.
    (root / "messages" / "mercato.md").write_text(BROKEN.replace("sabato", "domenica"),
                                                  encoding="utf-8")
    code, out, err = _due(root, "2026-12-01T09:20:00")
    assert (code, out) == (1, "")
    assert "mercato.md" in err and "sportello" not in err
    assert _due(root, "2026-12-01T09:25:00") == (1, "", "")

    # A day after it was first told: the due draft still refused is recalled, and only it.
    code, out, err = _due(root, "2026-12-02T09:00:00")
    assert code == 1
    assert "refused\tsportello\tarchivio" in out
    assert "reminder: draft 'sportello' is due and still refused (reported first on " \
           "1 December 2026, 09:00)" in err
    assert "mercato.md" not in err
    assert _due(root, "2026-12-02T09:05:00") == (1, "", "")

    # Fixed: sent, and said so. Gone: forgotten, so the same breakage again is news again.
    draft(root, "sportello", body=REFUSED.replace("http:", "https:"),
          extra="publish_at: 2026-12-01 08:30")
    broken = (root / "messages" / "mercato.md").read_text(encoding="utf-8")
    (root / "messages" / "mercato.md").unlink()
    code, out, err = _due(root, "2026-12-02T09:10:00")
    assert code == 0 and "sent\tsportello\tarchivio" in out and err == ""
    assert _due(root, "2026-12-02T09:15:00") == (0, "", "")
    (root / "messages" / "mercato.md").write_text(broken, encoding="utf-8")
    code, out, err = _due(root, "2026-12-02T09:20:00")
    assert code == 1 and "mercato.md" in err


def test_reminder_hours_zero_says_it_at_every_run(tmp_path: Path) -> None:
    root = _project(tmp_path, reminder_hours=0)
    _due(root, "2026-12-01T09:00:00")
    code, out, err = _due(root, "2026-12-01T09:05:00")
    assert code == 1 and "refused\tsportello" in out and "reminder:" in err
    assert "mercato.md" not in err  # a broken draft is still told once per change
