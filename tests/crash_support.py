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


def _env(shared: SharedLedger | None = None, host: str = "a") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    env.update(SECRETS_ENV)
    env["COMUNICAST_NOW"] = NOW
    if shared is not None:
        env.update(shared.host_env(host))
    return env


@dataclass
class SharedLedger:
    """One PostgreSQL ledger shared by several "hosts" (each its own state folder)."""

    root: Path
    url: str
    password: str
    project: str = "comune-di-cremona"

    def host_env(self, host: str) -> dict[str, str]:
        return {"COMUNICAST_STATE_DIR": str(self.root / f"host-{host}"),
                "PG_PASSWORD": self.password}

    def configure(self) -> None:
        """Point the project's comunicast.yaml at the database (password as ${PG_PASSWORD})."""
        import yaml

        path = self.root / "comunicast.yaml"
        data = yaml.safe_load(path.read_text("utf-8"))
        data["state"] = {"url": self.url.replace(f":{self.password}@", ":${PG_PASSWORD}@")}
        path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")

    def rows(self) -> list[dict[str, object]]:
        import psycopg
        from psycopg import sql
        from psycopg.rows import dict_row

        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            if conn.execute("SELECT to_regclass(%s) AS t",
                            (f'"{self.project}".publications',)).fetchone()["t"] is None:  # type: ignore[index]
                return []
            return list(conn.execute(sql.SQL("SELECT * FROM {}.publications ORDER BY id")
                                     .format(sql.Identifier(self.project))))


def _rows(root: Path, shared: SharedLedger | None) -> list[dict[str, object]]:
    return shared.rows() if shared is not None else rows(root)


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
    #: Longest time a rerun waited for a killed run's claim to stop being `in-progress`.
    longest_wait: float = 0.0
    duplicates: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per count, for the test log and the README."""
        return (
            f"{self.trials} SIGKILL trials: final states {dict(self.final)}; killed run left "
            f"{dict(self.left_behind)}; rerun exit codes {dict(self.rerun_codes)}; "
            f"unknown but actually delivered: {self.delivered_unknown}; "
            f"duplicate deliveries: {sum(n - 1 for n in self.duplicates.values())}; "
            f"longest wait for a dead run's claim: {self.longest_wait:.2f} s"
        )


def crash_trials(root: Path, trials: int, *, seed: int, server_delay: float = 0.4,
                 shared: SharedLedger | None = None, dead_bound: float = 0.0) -> CrashReport:
    """Kill `comunicast publish` with SIGKILL at a random moment, rerun normally, check the books.

    With `shared` (a PostgreSQL ledger) the killed run is on host "a", the rerun on host "b";
    a rerun that still finds the claim `in-progress` tries again for up to `dead_bound` s.
    """
    rng = random.Random(seed)
    report = CrashReport()
    with FakeWaha() as gateway:
        gateway.delay = server_delay
        make_project(root, {"whatsapp": waha(gateway.url, timeout=10)})
        if shared is not None:
            shared.configure()
        for i in range(trials):
            name = f"d{i:03d}"
            text = f"Avviso numero {i}: il ponte sul Po resta chiuso per lavori."
            path = draft(root, name, body=text)
            proc = subprocess.Popen(
                [*comunicast_exe(), "publish", str(path)], cwd=root, env=_env(shared, "a"),
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
            killed_at = time.monotonic()
            mine = [r for r in _rows(root, shared) if r["draft_id"] == name]
            report.left_behind[str(mine[0]["state"]) if mine else "nothing"] += 1

            while True:
                rerun = subprocess.run(
                    [*comunicast_exe(), "publish", str(path), "--format", "json"], cwd=root,
                    env=_env(shared, "b"), capture_output=True, text=True, timeout=60,
                    stdin=subprocess.DEVNULL, check=False,
                )
                try:
                    [pub] = json.loads(rerun.stdout)["publications"]
                except ValueError:
                    pub = None
                waited = time.monotonic() - killed_at
                if pub is None or pub["state"] != "in-progress" or waited > dead_bound:
                    break
                time.sleep(0.1)
            if pub is not None and pub["state"] != "in-progress":
                report.longest_wait = max(report.longest_wait, waited)
            report.rerun_codes[rerun.returncode] += 1
            if pub is None:
                report.problems.append(f"{name}: rerun exit {rerun.returncode}: {rerun.stderr}")
                continue
            [row] = [r for r in _rows(root, shared) if r["draft_id"] == name]
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


def concurrent_due(root: Path, drafts: int, processes: int, *,
                   shared: SharedLedger | None = None,
                   hosts: int = 1) -> tuple[Counter[str], list[int], int]:
    """`processes` simultaneous `publish --due` over `drafts` due drafts, spread over `hosts`
    (state folders; with `shared`, one PostgreSQL ledger for all of them).

    Returns deliveries per Idempotency-Key, the exit codes, and the ledger's `sent` rows.
    """
    with FakeWebhook(honour_idempotency=False) as hook:
        hook.delay = 0.01
        make_project(root, {"hook": {"adapter": "webhook", "url": hook.url,
                                     "secret": "${HOOK_SECRET}", "timeout": 10}})
        if shared is not None:
            shared.configure()
        for i in range(drafts):
            draft(root, f"due-{i:03d}", body=f"Comunicazione {i}: il ponte resta chiuso per lavori.",
                  extra=f"publish_at: 2026-12-01 0{i % 9}:00")
        procs = [
            subprocess.Popen(
                [*comunicast_exe(), "publish", "--due"], cwd=root,
                env=_env(shared, str(i % hosts)) if shared is not None else _env(),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(processes)
        ]
        codes = []
        said = []
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            codes.append(proc.returncode)
            said.append(f"exit {proc.returncode}\n{err}{out}")
        counts = Counter(d.key for d in hook.deliveries)
    sent = sum(1 for r in _rows(root, shared) if r["state"] == "sent")
    if any(codes):  # what a failing run said, for the assertion's message
        print("\n---\n".join(said))
    return counts, codes, sent


@dataclass
class CorrectionCrashReport:
    """What the SIGKILL trials of edits and withdrawals saw."""

    trials: int = 0
    #: Per action: how the rerun left the message (`edited`, `withdrawn`, `unknown`, …).
    final: Counter[str] = field(default_factory=Counter)
    #: What the killed run had left in the `actions` table.
    left_behind: Counter[str] = field(default_factory=Counter)
    rerun_codes: Counter[int] = field(default_factory=Counter)
    new_messages: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line, for the test log and the README."""
        return (
            f"{self.trials} SIGKILL trials of edits and withdrawals: outcomes {dict(self.final)};"
            f" killed run left {dict(self.left_behind)}; rerun exit codes "
            f"{dict(self.rerun_codes)}; messages sent anew: {self.new_messages}"
        )


def _action_rows(root: Path, draft_id: str) -> list[dict[str, object]]:
    import sqlite3

    path = root / ".comunicast" / "ledger.sqlite3"
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            "SELECT a.* FROM actions a JOIN publications p ON p.id = a.publication_id"
            " WHERE p.draft_id = ? ORDER BY a.id", (draft_id,))]
    finally:
        conn.close()


def correction_crash_trials(root: Path, trials: int, *, seed: int,
                            server_delay: float = 0.4) -> CorrectionCrashReport:
    """Kill `publish --edit` or `withdraw` with SIGKILL at a random moment, rerun it normally,
    and check the fake channel: the message shows the new text (or is gone) exactly once, or
    the rerun says `unknown`; no message is ever sent anew."""
    rng = random.Random(seed)
    report = CorrectionCrashReport()
    with FakeWaha() as gateway:
        make_project(root, {"whatsapp": waha(gateway.url, timeout=10)})
        names = [f"c{i:03d}" for i in range(trials)]
        for i, name in enumerate(names):
            draft(root, name, body=f"Avviso {i}: il ponte sul Po resta chiuso per lavori.")
        first = subprocess.run(
            [*comunicast_exe(), "publish", "messages", "--format", "json"], cwd=root,
            env=_env(), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
            check=False,
        )
        if first.returncode != 0:
            report.problems.append(f"first publish exit {first.returncode}: {first.stderr}")
            return report
        ids = {p["draft_id"]: p["remote_id"] for p in json.loads(first.stdout)["publications"]}
        sent_before = gateway.delivered
        gateway.delay = server_delay
        for i, name in enumerate(names):
            withdrawing = i % 2 == 1
            new_text = f"Avviso {i}: il ponte sul Po riapre domani mattina alle 7."
            if withdrawing:
                args = ["withdraw", name, "--reason", "Avviso superato"]
            else:
                draft(root, name, body=new_text)
                args = ["publish", f"messages/{name}.md", "--edit"]
            seen = len(gateway.requests)
            proc = subprocess.Popen(
                [*comunicast_exe(), *args], cwd=root, env=_env(),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            if rng.random() < 0.5:
                time.sleep(rng.uniform(0.05, 0.8 + server_delay + 0.3))
            else:
                gateway.wait_for_requests(seen + 1, timeout=15)
                time.sleep(rng.uniform(0.0, server_delay + 0.15))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            mine = _action_rows(root, name)
            report.left_behind[str(mine[-1]["state"]) if mine else "nothing"] += 1

            rerun = subprocess.run(
                [*comunicast_exe(), *args, "--format", "json"], cwd=root, env=_env(),
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False,
            )
            report.rerun_codes[rerun.returncode] += 1
            try:
                outcomes = json.loads(rerun.stdout)["publications"]
            except ValueError:
                report.problems.append(f"{name}: rerun exit {rerun.returncode}: {rerun.stderr}")
                continue
            report.trials += 1
            state = outcomes[0]["state"] if len(outcomes) == 1 else repr(outcomes)
            report.final[state] += 1
            message = gateway.messages.get(ids[name])
            if message is None:
                report.problems.append(f"{name}: the published message is gone from the fake")
                continue
            if state == "unknown":
                if rerun.returncode != 5:
                    report.problems.append(f"{name}: unknown but exit {rerun.returncode}")
                continue
            if withdrawing:
                if state not in ("withdrawn", "skipped") or not message.deleted:
                    report.problems.append(f"{name}: withdraw → {state}, deleted={message.deleted}")
            else:
                if state not in ("edited", "skipped") or not message.text.endswith(new_text):
                    report.problems.append(f"{name}: edit → {state}, text {message.text!r}")
                if any(not t.endswith(new_text) for t in message.edits):
                    report.problems.append(f"{name}: an edit set another text")
            rows_now = _action_rows(root, name)
            if not rows_now or rows_now[-1]["state"] != "done":
                report.problems.append(f"{name}: action left {rows_now[-1:]}")
        report.new_messages = gateway.delivered - sent_before
        report.problems += gateway.problems
    return report
