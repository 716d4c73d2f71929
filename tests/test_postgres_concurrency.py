"""Exactly once across "hosts" sharing one PostgreSQL ledger, with real processes (quick round;
the long one is in tests/stress/test_postgres_stress.py)."""

from __future__ import annotations

from pathlib import Path

from crash_support import SharedLedger, concurrent_due, crash_trials
from pg_support import PASSWORD

from comunicast.ledger_postgres import DEAD_HOST_BOUND


def test_four_due_runs_on_two_hosts_deliver_each_draft_once(tmp_path: Path, pg_url: str) -> None:
    shared = SharedLedger(tmp_path, pg_url, PASSWORD)
    counts, codes, sent = concurrent_due(tmp_path, drafts=20, processes=4, shared=shared, hosts=2)
    assert codes == [0, 0, 0, 0]
    assert len(counts) == 20 and set(counts.values()) == {1}
    assert sent == 20


def test_sigkill_on_one_host_then_rerun_on_the_other_quick(tmp_path: Path, pg_url: str) -> None:
    shared = SharedLedger(tmp_path, pg_url, PASSWORD)
    report = crash_trials(tmp_path, 4, seed=1311, shared=shared, dead_bound=DEAD_HOST_BOUND)
    print(report.summary())
    assert report.problems == []
    assert report.duplicates == {}
    assert report.trials == 4
    assert set(report.final) <= {"sent", "failed", "unknown"}
    assert report.longest_wait <= DEAD_HOST_BOUND
