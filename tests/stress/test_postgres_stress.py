"""Long trials on a shared PostgreSQL ledger (`pytest -m stress`): two hosts, one database."""

from __future__ import annotations

from pathlib import Path

import pytest
from crash_support import SharedLedger, concurrent_due, crash_trials
from pg_support import PASSWORD

from comunicast.ledger_postgres import DEAD_HOST_BOUND

pytestmark = pytest.mark.stress


def test_sigkill_100_trials_on_one_host_rerun_on_the_other(tmp_path: Path, pg_url: str) -> None:
    shared = SharedLedger(tmp_path, pg_url, PASSWORD)
    report = crash_trials(tmp_path, 100, seed=1313, shared=shared, dead_bound=DEAD_HOST_BOUND)
    print(report.summary())
    assert report.problems == []  # every "unknown" reported (exit 5); no sent-twice, no lost
    assert report.duplicates == {}
    assert report.trials == 100
    assert report.left_behind["nothing"] > 0 and report.left_behind["sending"] > 0
    # The dead run's claims became `unknown` within the documented bound.
    assert report.longest_wait <= DEAD_HOST_BOUND


@pytest.mark.parametrize("round_", range(3))
def test_four_due_runs_on_two_hosts_over_50_drafts(tmp_path: Path, pg_url: str,
                                                   round_: int) -> None:
    shared = SharedLedger(tmp_path, pg_url, PASSWORD)
    counts, codes, sent = concurrent_due(tmp_path, drafts=50, processes=4, shared=shared, hosts=2)
    assert codes == [0, 0, 0, 0]
    assert len(counts) == 50 and set(counts.values()) == {1}
    assert sent == 50
