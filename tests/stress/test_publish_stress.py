"""Long trials (`pytest -m stress`): 120 SIGKILLs, 20 graceful stops, repeated overlapping cron runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from crash_support import concurrent_due, crash_trials
from sigterm_support import stop_trials

pytestmark = pytest.mark.stress


def test_sigkill_120_trials(tmp_path: Path) -> None:
    report = crash_trials(tmp_path, 120, seed=4242)
    print(report.summary())
    assert report.problems == []
    assert report.duplicates == {}
    assert report.trials == 120
    # The trials must have hit every phase, or they prove little.
    assert report.left_behind["nothing"] > 0 and report.left_behind["sending"] > 0


def test_sigterm_and_sighup_20_trials(tmp_path: Path) -> None:
    """No `sending` left behind; each publication sent or failed, or unknown only when its
    request's own timeout was reached; what was not attempted was never claimed nor sent."""
    report = stop_trials(tmp_path, 20, seed=1414)
    print(report.summary())
    assert report.problems == []
    assert report.trials == 20
    assert report.states["sending"] == 0
    assert report.reported["not-attempted"] > 0 and report.states["sent"] > 0


@pytest.mark.parametrize("round_", range(3))
def test_four_concurrent_due_runs_repeated(tmp_path: Path, round_: int) -> None:
    counts, codes, sent = concurrent_due(tmp_path, drafts=50, processes=4)
    assert codes == [0, 0, 0, 0]
    assert len(counts) == 50 and set(counts.values()) == {1}
    assert sent == 50
