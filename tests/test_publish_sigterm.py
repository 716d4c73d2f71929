"""SIGTERM/SIGHUP during `publish` with real processes and a slow loopback WAHA: the request in
flight is finished and recorded, nothing more is sent, a second signal stops at once."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from conftest import comunicast_exe
from fakes import FakeWaha
from publish_support import draft, make_project, rows, run_json, waha
from sigterm_support import MODES, _env, stop_trials


def test_each_kind_of_stop_once(tmp_path: Path) -> None:
    """One trial per mode (in flight, any moment, past the request's timeout, in the pause);
    the 20-trial run is in the stress suite."""
    report = stop_trials(tmp_path, len(MODES), seed=14)
    print(report.summary())
    assert report.problems == []
    assert report.trials == len(MODES)


def test_a_second_signal_stops_at_once_and_the_next_run_reports_unknown(tmp_path: Path) -> None:
    with FakeWaha() as gateway:
        gateway.delay = 4.0  # the request is still in flight when both signals come
        make_project(tmp_path, {"whatsapp": waha(gateway.url, timeout=10)})
        path = draft(tmp_path, "ponte")
        proc = subprocess.Popen(
            [*comunicast_exe(), "publish", str(path)], cwd=tmp_path, env=_env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert gateway.wait_for_requests(1, timeout=20)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert proc.poll() is None  # the first one only asked to stop after the request
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
        assert time.monotonic() - start < 2
        assert proc.returncode == -signal.SIGTERM  # ended by the signal, as before
        assert [r["state"] for r in rows(tmp_path)] == ["sending"]
        code, document, _err = run_json(tmp_path, "publish", str(path))
    assert code == 5
    assert [p["state"] for p in document["publications"]] == ["unknown"]
