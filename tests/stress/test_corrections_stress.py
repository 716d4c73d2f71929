"""Long trials (`pytest -m stress`): 50 SIGKILLs during edits and withdrawals (SPEC §10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from crash_support import correction_crash_trials

pytestmark = pytest.mark.stress


def test_sigkill_50_trials_of_edits_and_withdrawals(tmp_path: Path) -> None:
    report = correction_crash_trials(tmp_path, 50, seed=1012)
    print(report.summary())
    assert report.problems == []
    assert report.trials == 50
    assert report.new_messages == 0
    # The kills must have landed before the claim and while an action was in flight.
    assert report.left_behind["nothing"] > 0 and report.left_behind["sending"] > 0
