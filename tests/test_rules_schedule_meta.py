"""schedule.* in the configured time zone with an injected "now"; meta.required for senders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rules_support import NOW, findings, md, places


def test_schedule_past_warns_on_unpublished_draft(tmp_path: Path) -> None:
    text = md("Testo.\n", publish_at="2026-11-30 08:00")
    found = findings(tmp_path, text, "schedule.past")
    assert places(found) == [(4, 13)]
    assert "2026-11-30 08:00" in found[0].message
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
