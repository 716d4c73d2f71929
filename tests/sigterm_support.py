"""SIGTERM/SIGHUP trials with real processes against a slow loopback WAHA (quick and stress tests).

Each trial is a fresh project with three due drafts and one `comunicast publish --due --format
json`, stopped by SIGTERM or SIGHUP at a moment chosen by its mode:

- `in-flight`: while the first request is on the wire (the gateway answers after 0.4 s);
- `anytime`: any moment of the run's life, start-up included (before the handlers are in place
  the signal's default action ends the process, and nothing was claimed yet);
- `timeout`: while a request whose answer comes after the sender's own timeout is in flight;
- `pause`: during the `min_interval` pause (20 s) after the first send.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from conftest import comunicast_exe
from fakes import FakeWaha, Reply
from publish_support import NOW, SECRETS_ENV, draft, make_project, rows, waha

MODES = ("in-flight", "anytime", "timeout", "pause")
GATEWAY_DELAY = 0.4


@dataclass
class StopReport:
    """What the trials saw."""

    trials: int = 0
    modes: Counter[str] = field(default_factory=Counter)
    #: Final ledger states of every publication, over all trials.
    states: Counter[str] = field(default_factory=Counter)
    #: States reported in the JSON output (`not-attempted` included).
    reported: Counter[str] = field(default_factory=Counter)
    exit_codes: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the test log and the README."""
        return (f"{self.trials} stop trials {dict(self.modes)}: ledger states "
                f"{dict(self.states)}; reported {dict(self.reported)}; exit codes "
                f"{dict(self.exit_codes)}; problems {len(self.problems)}")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    env.update(SECRETS_ENV)
    env["COMUNICAST_NOW"] = NOW
    return env


def stop_trials(root: Path, trials: int, *, seed: int) -> StopReport:
    """Run `trials` stopped runs (the modes in turn) and check the books after each."""
    rng = random.Random(seed)
    report = StopReport()
    with FakeWaha() as gateway:
        gateway.delay = GATEWAY_DELAY
        for i in range(trials):
            mode = MODES[i % len(MODES)]
            signum = signal.SIGTERM if i % 3 else signal.SIGHUP
            _trial(root / f"t{i:02d}", gateway, i, mode, signum, rng, report)
        report.problems += [f"gateway: {p}" for p in gateway.problems]
        report.problems += [f"duplicate delivery: {k!r}" for k in gateway.duplicates()]
    return report


def _trial(root: Path, gateway: FakeWaha, i: int, mode: str, signum: signal.Signals,
           rng: random.Random, report: StopReport) -> None:
    timeout = 1 if mode == "timeout" else 10
    interval = 20 if mode == "pause" else 0
    make_project(root, {"whatsapp": waha(gateway.url, timeout=timeout, min_interval=interval)})
    texts = {}
    for k in "abc":
        name = f"t{i:02d}{k}"
        texts[name] = f"Avviso {i}{k}: il ponte sul Po resta chiuso dal 2 al 5 dicembre."
        draft(root, name, body=texts[name], extra=f"publish_at: 2026-12-01 08:0{'abc'.index(k)}")
    if mode == "timeout":
        gateway.script(Reply.slow(timeout + 1.5))
    seen, delivered = len(gateway.requests), gateway.delivered
    proc = subprocess.Popen(
        [*comunicast_exe(), "publish", "--due", "--format", "json"], cwd=root, env=_env(),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if mode == "anytime":
        time.sleep(rng.uniform(0.05, 1.2))
    elif mode == "pause":
        _wait(lambda: gateway.delivered > delivered and bool(_rows(root)) and
              _rows(root)[0]["state"] == "sent", 20)
        time.sleep(rng.uniform(0.0, 0.3))
    else:
        gateway.wait_for_requests(seen + 1, timeout=20)
        time.sleep(rng.uniform(0.0, GATEWAY_DELAY + 0.1 if mode == "in-flight" else 0.5))
    signalled = time.monotonic()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - signalled
    report.trials += 1
    report.modes[mode] += 1
    report.exit_codes[proc.returncode] += 1
    said = f"trial {i} ({mode}, {signum.name}): exit {proc.returncode}\n{err}"

    ledger = {r["draft_id"]: r for r in _rows(root)}
    for row in ledger.values():
        report.states[row["state"]] += 1
        if row["state"] not in ("sent", "failed", "unknown"):
            report.problems.append(f"{said}: {row['draft_id']} left {row['state']}")
        if row["state"] == "unknown" and mode != "timeout":
            report.problems.append(f"{said}: {row['draft_id']} unknown without a timeout")
    for name, text in texts.items():
        times = sum(1 for d in gateway.deliveries if text in d.key)
        state = ledger.get(name, {}).get("state")
        if state == "sent" and times != 1:
            report.problems.append(f"{said}: {name} sent but delivered {times} times")
        if state in (None, "failed") and times:
            report.problems.append(f"{said}: {name} {state or 'not claimed'} but delivered")
    if mode == "pause" and took > 5:
        report.problems.append(f"{said}: the min_interval pause was not cut short ({took:.1f} s)")
    if proc.returncode < 0:  # ended by the signal itself: only before the handlers were in place
        if mode != "anytime" or ledger:
            report.problems.append(f"{said}: killed by the signal with rows {list(ledger)}")
        return
    try:
        document = json.loads(out)
    except ValueError:
        report.problems.append(f"{said}: no JSON on stdout: {out!r}")
        return
    for pub in document["publications"]:
        report.reported[pub["state"]] += 1
        row = ledger.get(pub["draft_id"])
        if pub["state"] == "not-attempted" and row is not None:
            report.problems.append(f"{said}: {pub['draft_id']} not attempted but claimed")
        if pub["state"] != "not-attempted" and (row is None or row["state"] != pub["state"]):
            report.problems.append(f"{said}: {pub} but the ledger says {row}")
    expected = max([0, *({"unknown": 5, "failed": 4}.get(r["state"], 0)
                         for r in ledger.values())])
    if proc.returncode != expected or document["exit_code"] != expected:
        report.problems.append(f"{said}: exit code {proc.returncode}, expected {expected}")
    if "not-attempted" in {p["state"] for p in document["publications"]} \
            and "stopped by" not in err:
        report.problems.append(f"{said}: the stop was not reported on stderr")


def _rows(root: Path) -> list[dict[str, object]]:
    try:
        return rows(root)
    except Exception:  # noqa: BLE001 - the ledger is being created right now
        return []


def _wait(condition: object, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
