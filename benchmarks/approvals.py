#!/usr/bin/env python3
"""What approvals cost cron: `publish --due` over many signed-approved drafts, and `approvals`.

Usage: python benchmarks/approvals.py [--drafts 200] [--runs 3]

In a fresh project each run, with `--drafts` due `avviso` drafts, each approved by Maria Rossi
and signed with a real ed25519 key (ssh-keygen), sent to an outbox folder:

1. `publish --due` without an `approval:` section (the baseline);
2. `publish --due` with `approval.required: [avviso]`: one `ssh-keygen -Y verify` per approval;
3. `publish --due` again once everything is sent (cron's usual run): no signature is checked;
4. `approvals` (every draft judged, every signature checked), then again (the answers of
   ssh-keygen remembered in the ledger).

Target: the verified run within 2 s of the baseline for 200 drafts; the steady cron run as fast
as the baseline's steady run.
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
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _common import comunicast_exe

CONFIG = """\
organization:
  name: Comune di Cremona
channel:
  invite_url: https://whatsapp.com/channel/0029VaTestTestTestTest00
timezone: Europe/Rome
senders:
  archivio:
    adapter: outbox
    path: outbox/
{approval}"""
APPROVAL = """\
approval:
  required: [avviso]
  approvers:
    - name: Maria Rossi
      key: {key}
    - name: Luca Bianchi
"""
DRAFT = """\
---
title: Avviso numero {n}
kind: avviso
author: Giulia Verdi
publish_at: 2026-12-01 08:00
---
Il **ponte sul Po** resta chiuso dal 2 al 5 dicembre per lavori (avviso {n}).

Percorsi alternativi: https://www.comune.cremona.it/viabilita
"""


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("COMUNICAST_")}
    out.update(COMUNICAST_NOW="2026-12-01T09:00:00", COMUNICAST_LANG="en")
    return out


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child and its ssh-keygen children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def project(root: Path, drafts: int, key: Path | None) -> None:
    """The project; with `key`, every draft approved and signed with it (in this process)."""
    (root / "messages").mkdir(parents=True)
    approval = APPROVAL.format(key=Path(f"{key}.pub").read_text().strip()) if key else ""
    (root / "comunicast.yaml").write_text(CONFIG.format(approval=approval), encoding="utf-8")
    for n in range(drafts):
        (root / "messages" / f"avviso-{n:03d}.md").write_text(DRAFT.format(n=n), "utf-8")
    if key is None:
        return
    from comunicast.approvals import approve
    from comunicast.config import load_config
    from comunicast.drafts import load_drafts

    config = load_config(root / "comunicast.yaml")
    loaded = load_drafts([config.messages_dir], config.tz)
    approver = config.approval.approver("Maria Rossi")
    assert approver is not None
    approve(config, loaded.drafts, approver, key=key,
            now=datetime(2026, 11, 30, 17, 0, tzinfo=ZoneInfo("Europe/Rome")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    exe = comunicast_exe()
    results: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as keys:
        key = Path(keys) / "maria"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
        for _ in range(args.runs):
            for label, signed in (("baseline", None), ("approved", key)):
                with tempfile.TemporaryDirectory() as tmp:
                    root = Path(tmp)
                    project(root, args.drafts, signed)
                    results.setdefault(f"publish --due ({label})", []).append(
                        timed([*exe, "publish", "--due"], root))
                    sent = len(list((root / "outbox").glob("*.json")))
                    assert sent == args.drafts, sent
                    results.setdefault(f"publish --due, all sent ({label})", []).append(
                        timed([*exe, "publish", "--due"], root))
                    if signed:
                        results.setdefault("approvals (first listing)", []).append(
                            timed([*exe, "approvals"], root))
                        results.setdefault("approvals (again: checks remembered)", []).append(
                            timed([*exe, "approvals"], root))
    print(f"load average: {os.getloadavg()[0]:.1f}; {args.drafts} drafts, {args.runs} runs")
    print(f"{'case':<42} {'median':>8} {'max':>8} {'CPU':>8}")
    for label, times in results.items():
        wall = statistics.median(t for t, _ in times)
        worst = max(t for t, _ in times)
        cpu = statistics.median(c for _, c in times)
        print(f"{label:<42} {wall:>7.3f}s {worst:>7.3f}s {cpu:>7.3f}s")


if __name__ == "__main__":
    main()
