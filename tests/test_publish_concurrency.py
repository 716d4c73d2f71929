"""Exactly once with real processes: SIGKILL at random moments, and overlapping cron runs."""

from __future__ import annotations

from pathlib import Path

from crash_support import concurrent_due, crash_trials


def test_sigkill_at_random_moments_quick(tmp_path: Path) -> None:
    report = crash_trials(tmp_path, 8, seed=20261201)
    print(report.summary())
    assert report.problems == []
    assert report.duplicates == {}
    assert report.trials == 8
    assert set(report.final) <= {"sent", "failed", "unknown"}


def test_four_concurrent_due_runs_deliver_each_draft_once(tmp_path: Path) -> None:
    counts, codes, sent = concurrent_due(tmp_path, drafts=50, processes=4)
    assert codes == [0, 0, 0, 0]
    assert len(counts) == 50 and set(counts.values()) == {1}
    assert sent == 50
