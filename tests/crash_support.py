"""Crash and concurrency trials shared by the quick tests and the stress suite (real processes)."""

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
from fakes import FakeWaha, FakeWebhook
from publish_support import NOW, SECRETS_ENV, draft, make_project, rows, waha


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    env.update(SECRETS_ENV)
    env["COMUNICAST_NOW"] = NOW
    return env


@dataclass
class CrashReport:
    """What the crash trials saw, for the assertions and the printed summary."""

    trials: int = 0
    #: Final ledger state per draft after the rerun.
    final: Counter[str] = field(default_factory=Counter)
    #: What the killed run had left in the ledger: nothing, or a row in some state.
    left_behind: Counter[str] = field(default_factory=Counter)
    #: Exit codes of the reruns.
    rerun_codes: Counter[int] = field(default_factory=Counter)
    delivered_unknown: int = 0
    duplicates: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per count, for the test log and the README."""
        return (
            f"{self.trials} SIGKILL trials: final states {dict(self.final)}; killed run left "
            f"{dict(self.left_behind)}; rerun exit codes {dict(self.rerun_codes)}; "
            f"unknown but actually delivered: {self.delivered_unknown}; "
            f"duplicate deliveries: {sum(n - 1 for n in self.duplicates.values())}"
        )


def crash_trials(root: Path, trials: int, *, seed: int, server_delay: float = 0.4) -> CrashReport:
    """Kill `comunicast publish` with SIGKILL at a random moment, rerun normally, check the books."""
    rng = random.Random(seed)
    report = CrashReport()
    with FakeWaha() as gateway:
        gateway.delay = server_delay
        make_project(root, {"whatsapp": waha(gateway.url, timeout=10)})
        for i in range(trials):
            name = f"d{i:03d}"
            text = f"Avviso numero {i}: il ponte sul Po resta chiuso per lavori."
            path = draft(root, name, body=text)
            proc = subprocess.Popen(
                [*comunicast_exe(), "publish", str(path)], cwd=root, env=_env(),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            if i % 2 == 0:
                # Any moment of the run's life: start-up takes ~0.3-1 s and the gateway answers
                # after `server_delay`, so the kill lands before the claim, between claim and
                # request, during it, or after the answer.
                time.sleep(rng.uniform(0.05, 0.8 + server_delay + 0.3))
            else:
                # While the request is in flight or just answered: the window that matters most.
                seen = len(gateway.requests)
                gateway.wait_for_requests(seen + 1, timeout=15)
                time.sleep(rng.uniform(0.0, server_delay + 0.15))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            mine = [r for r in rows(root) if r["draft_id"] == name]
            report.left_behind[mine[0]["state"] if mine else "nothing"] += 1

            rerun = subprocess.run(
                [*comunicast_exe(), "publish", str(path), "--format", "json"], cwd=root,
                env=_env(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                check=False,
            )
            report.rerun_codes[rerun.returncode] += 1
            try:
                [pub] = json.loads(rerun.stdout)["publications"]
            except ValueError:
                report.problems.append(f"{name}: rerun exit {rerun.returncode}: {rerun.stderr}")
                continue
            [row] = [r for r in rows(root) if r["draft_id"] == name]
            report.final[row["state"]] += 1
            report.trials += 1
            delivered = sum(1 for d in gateway.deliveries if text in d.key)
            if row["state"] not in ("sent", "failed", "unknown"):
                report.problems.append(f"{name}: left in state {row['state']}")
            if row["state"] == "unknown" and (rerun.returncode != 5 or pub["state"] != "unknown"):
                report.problems.append(f"{name}: unknown but not reported (exit {rerun.returncode})")
            if row["state"] == "sent" and delivered != 1:
                report.problems.append(f"{name}: sent but delivered {delivered} times")
            if row["state"] == "failed" and delivered:
                report.problems.append(f"{name}: failed but delivered")
            if row["state"] == "unknown" and delivered:
                report.delivered_unknown += 1
            if delivered > 1:
                report.problems.append(f"{name}: delivered {delivered} times")
        report.duplicates = gateway.duplicates()
        report.problems += gateway.problems
    return report


def concurrent_due(root: Path, drafts: int, processes: int) -> tuple[Counter[str], list[int], int]:
    """`processes` simultaneous `publish --due` over `drafts` due drafts.

    Returns deliveries per Idempotency-Key, the exit codes, and the ledger's `sent` rows.
    """
    with FakeWebhook(honour_idempotency=False) as hook:
        hook.delay = 0.01
        make_project(root, {"hook": {"adapter": "webhook", "url": hook.url,
                                     "secret": "${HOOK_SECRET}", "timeout": 10}})
        for i in range(drafts):
            draft(root, f"due-{i:03d}", body=f"Comunicazione {i}: il ponte resta chiuso per lavori.",
                  extra=f"publish_at: 2026-12-01 0{i % 9}:00")
        procs = [
            subprocess.Popen(
                [*comunicast_exe(), "publish", "--due"], cwd=root, env=_env(),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        codes = []
        said = []
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            codes.append(proc.returncode)
            said.append(f"exit {proc.returncode}\n{err}{out}")
        counts = Counter(d.key for d in hook.deliveries)
    sent = sum(1 for r in rows(root) if r["state"] == "sent")
    if any(codes):  # what a failing run said, for the assertion's message
        print("\n---\n".join(said))
    return counts, codes, sent
