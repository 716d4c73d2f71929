#!/usr/bin/env python3
"""Wall time of `comunicast publish`, end to end, against loopback stand-ins of the platforms.

Usage: python benchmarks/publish.py [--runs 15] [--due-drafts 200] [--due-runs 3] [--no-postgresql]

1. `comunicast publish DRAFT` of one draft to a loopback WAHA stand-in (a new draft each run, so
   each run really sends): median of `--runs`. Target ≤ 0.5 s.
2. `comunicast publish --due` with 200 due drafts to a loopback webhook with no minimum
   interval, in a fresh project each time: median of `--due-runs`. Target ≤ 6 s.
3. The same `publish --due` with the ledger in PostgreSQL (SPEC §11): a private server started
   for the run (initdb + pg_ctl, fsync on, like SQLite's synchronous=FULL), a fresh project each
   time, runs interleaved with case 2's. Target ≤ 1.5 × case 2's median.

The stand-ins are the test suite's fakes (tests/fakes), real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _common import comunicast_exe
from fakes import FakeWaha, FakeWebhook

CONFIG = """\
organization:
  name: Comune di Cremona
channel:
  invite_url: https://whatsapp.com/channel/0029VaTestTestTestTest00
timezone: Europe/Rome
senders:
  bench:
{sender}
"""
WAHA = """\
    adapter: waha
    base_url: {url}
    chat_id: 120363000000000000@newsletter
    api_key: ${{WAHA_API_KEY}}
    min_interval: 0
"""
WEBHOOK = """\
    adapter: webhook
    url: {url}
    secret: ${{HOOK_SECRET}}
"""
DRAFT = """\
---
title: Avviso numero {n}
kind: avviso
publish_at: 2026-12-01 08:00
---
Il **ponte sul Po** resta chiuso dal 2 al 5 dicembre per lavori (avviso {n}).

Percorsi alternativi: https://www.comune.cremona.it/viabilita
"""



def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("COMUNICAST_")}
    out.update(WAHA_API_KEY="waha-test-key", HOOK_SECRET="webhook-test-secret-0123456789",
               COMUNICAST_NOW="2026-12-01T09:00:00")
    return out


def project(root: Path, sender: str, drafts: int) -> None:
    (root / "messages").mkdir(parents=True)
    (root / "comunicast.yaml").write_text(CONFIG.format(sender=sender), encoding="utf-8")
    for n in range(drafts):
        (root / "messages" / f"avviso-{n:03d}.md").write_text(DRAFT.format(n=n), encoding="utf-8")


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def bench_one(runs: int) -> list[tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp, FakeWaha() as waha:
        root = Path(tmp)
        project(root, WAHA.format(url=waha.url), runs + 1)
        timed([*comunicast_exe(), "publish", "avviso-000"], root)  # warm the OS cache and .pyc files
        times = [timed([*comunicast_exe(), "publish", f"avviso-{n:03d}"], root) for n in range(1, runs + 1)]
        assert waha.delivered == runs + 1 and waha.duplicates() == {}, waha.problems
    return times


def bench_due(drafts: int, state_url: str | None = None, run: int = 0) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp, FakeWebhook() as hook:
        root = Path(tmp)
        project(root, WEBHOOK.format(url=hook.url), drafts)
        if state_url is not None:
            with (root / "comunicast.yaml").open("a", encoding="utf-8") as fh:
                fh.write(f"state:\n  url: {state_url}\n  project: bench-{run}\n")
        result = timed([*comunicast_exe(), "publish", "--due"], root)
        assert hook.delivered == drafts and hook.duplicates() == {}, hook.problems
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--due-drafts", type=int, default=200)
    parser.add_argument("--due-runs", type=int, default=3)
    parser.add_argument("--no-postgresql", action="store_true",
                        help="skip case 3 (the ledger in a private PostgreSQL)")
    args = parser.parse_args()
    server = None
    if not args.no_postgresql:
        from pg_support import start_server

        server = start_server(fsync=True)
    try:
        sqlite_times, pg_times = [], []
        for run in range(args.due_runs):  # interleaved: both engines see the same load
            sqlite_times.append(bench_due(args.due_drafts))
            if server is not None:
                pg_times.append(bench_due(args.due_drafts, server.url(), run))
    finally:
        if server is not None:
            server.stop()
    due = f"publish --due, {args.due_drafts} drafts -> loopback webhook"
    sqlite_median = statistics.median(t for t, _ in sqlite_times)
    cases = [
        ("publish 1 draft -> loopback WAHA", 0.5, bench_one(args.runs)),
        (due, 6.0, sqlite_times),
    ]
    if pg_times:
        cases.append((f"{due} (PostgreSQL)", 1.5 * sqlite_median, pg_times))
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"{'case':<50} {'median':>8} {'max':>8} {'CPU':>8} {'target':>7}")
    for label, target, times in cases:
        wall = statistics.median(t for t, _ in times)
        worst = max(t for t, _ in times)
        cpu = statistics.median(c for _, c in times)
        verdict = "ok" if wall <= target else "OVER"
        print(f"{label:<50} {wall:>7.3f}s {worst:>7.3f}s {cpu:>7.3f}s {target:>6.2f}s  {verdict}")
    if pg_times:
        ratio = statistics.median(t for t, _ in pg_times) / sqlite_median
        print(f"PostgreSQL / SQLite, publish --due: {ratio:.2f} x (target <= 1.5 x)")


if __name__ == "__main__":
    main()
