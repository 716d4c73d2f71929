"""schedule.* in the configured time zone with an injected "now"; meta.required for senders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import MINIMAL_CONFIG, run_cli
from rules_support import NOW, findings, md, places


def test_schedule_past_warns_on_unpublished_draft(tmp_path: Path) -> None:
    text = md("Testo.\n", publish_at="2026-11-30 08:00")
    found = findings(tmp_path, text, "schedule.past")
    assert places(found) == [(4, 13)]
    assert "30 November 2026, 08:00" in found[0].message
    assert findings(tmp_path, text, "schedule.past", published=True) == []


def test_schedule_past_near_miss_in_the_future(tmp_path: Path) -> None:
    text = md("Testo.\n", publish_at="2026-12-01 12:30")
    assert findings(tmp_path, text, "schedule.past") == []


def test_schedule_uses_the_configured_time_zone(tmp_path: Path) -> None:
    # 11:45 UTC is 12:45 in Rome: a naive 12:30 (Rome) is already past. Read as UTC it would not be.
    text = md("Testo.\n", publish_at="2026-12-01 12:30")
    now = datetime(2026, 12, 1, 11, 45, tzinfo=UTC)
    assert places(findings(tmp_path, text, "schedule.past", now=now)) == [(4, 13)]
    earlier = datetime(2026, 12, 1, 11, 15, tzinfo=UTC)  # 12:15 in Rome
    assert findings(tmp_path, text, "schedule.past", now=earlier) == []


def test_schedule_after_deadline(tmp_path: Path) -> None:
    text = md("Testo.\n", kind="scadenza", deadline="2026-12-10", publish_at="2026-12-11 08:00")
    found = findings(tmp_path, text, "schedule.after-deadline")
    assert places(found) == [(5, 13)]
    assert found[0].severity.label == "error"
    # Near miss: the deadline is a date, so publishing on its morning is still in time.
    text = md("Testo.\n", kind="scadenza", deadline="2026-12-10", publish_at="2026-12-10 08:00")
    assert findings(tmp_path, text, "schedule.after-deadline") == []


def test_schedule_after_event_start(tmp_path: Path) -> None:
    text = md("Testo.\n", kind="evento", starts_at="2026-12-08 17:00",
              publish_at="2026-12-08 18:00")
    assert places(findings(tmp_path, text, "schedule.after-deadline")) == [(5, 13)]
    text = md("Testo.\n", kind="evento", starts_at="2026-12-08 17:00",
              publish_at="2026-12-08 09:00")
    assert findings(tmp_path, text, "schedule.after-deadline") == []


def test_schedule_expired(tmp_path: Path) -> None:
    text = md("Testo.\n", kind="scadenza", deadline="2026-11-30", expires_at="2026-11-30 18:00")
    found = findings(tmp_path, text, "schedule.expired")
    assert places(found) == [(4, 11), (5, 13)]
    text = md("Testo.\n", kind="evento", starts_at="2026-11-20 17:00", ends_at="2026-11-20 19:00")
    assert places(findings(tmp_path, text, "schedule.expired")) == [(5, 10)]


def test_schedule_expired_near_miss_deadline_today(tmp_path: Path) -> None:
    # The deadline is today (a date): it runs until the end of the day.
    assert NOW.date().isoformat() == "2026-12-01"
    text = md("Testo.\n", kind="scadenza", deadline="2026-12-01")
    assert findings(tmp_path, text, "schedule.expired") == []


def test_meta_required_unknown_sender_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    text = md("Testo.\n", senders="[console, whatsap]")
    found = findings(tmp_path, text, "meta.required")
    assert places(found) == [(4, 10)]
    assert "whatsap" in found[0].message and "console" in found[0].message
    assert findings(tmp_path, md("Testo.\n", senders="[console]"), "meta.required") == []


def test_no_findings_on_a_good_draft(tmp_path: Path) -> None:
    text = md("""\
        Il **ponte sul Po** resta chiuso dal 2 al 5 dicembre per lavori.

        Percorsi alternativi: https://www.comune.cremona.it/viabilita
        """, publish_at="2026-12-01 18:00")
    assert findings(tmp_path, text) == []


def test_meta_template_finds_the_text_of_new_left_in_place(tmp_path: Path) -> None:
    text = md("""\
        Scrivi qui che cosa cambia, dove e da quando a quando.

        Tutti i dettagli: incolla il link alla pagina del sito del Comune.
        """)
    found = findings(tmp_path, text, "meta.template")
    assert places(found) == [(5, 1), (7, 19)]
    assert all(f.severity.label == "error" for f in found)
    ok = md("Per scrivere al Comune: urp@comune.cremona.it. Il link è sul sito.\n")
    assert findings(tmp_path, ok, "meta.template") == []


def test_cron_does_not_publish_a_new_draft_nobody_wrote(tmp_path: Path) -> None:
    (tmp_path / "messages").mkdir()
    (tmp_path / "comunicast.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    env = {"COMUNICAST_NOW": "2026-11-30T10:00"}
    made = run_cli(["new", "Ponte chiuso", "--kind", "avviso", "--at", "2026-12-01 08:00"],
                   tmp_path, env)
    assert made.returncode == 0, made.stderr
    draft = tmp_path / made.stdout.strip()
    due = run_cli(["publish", "--due"], tmp_path, {"COMUNICAST_NOW": "2026-12-01T08:05"})
    assert due.returncode == 1, due.stderr
    assert "meta.template" in due.stdout + due.stderr and "── " not in due.stdout  # not sent
    text = draft.read_text(encoding="utf-8").split("---\n")
    draft.write_text("---\n".join([*text[:2], "Il ponte resta chiuso per lavori.\n"]),
                     encoding="utf-8")
    due = run_cli(["publish", "--due"], tmp_path, {"COMUNICAST_NOW": "2026-12-01T08:10"})
    assert due.returncode == 0, due.stderr
    assert "sent" in due.stdout
