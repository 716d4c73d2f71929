"""The installed CLI on a PostgreSQL ledger (SPEC §11): config, projects, hosts, locks, copy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from conftest import comunicast_exe
from fakes import FakeWaha, FakeWebhook, Reply
from pg_support import PASSWORD
from publish_support import NOW, SECRETS_ENV, draft, make_project, run, run_json, waha, webhook

from comunicast.ledger_postgres import DEAD_HOST_BOUND


def pg_rows(url: str, project: str) -> list[dict[str, Any]]:
    """A project's publications, straight from PostgreSQL."""
    import psycopg
    from psycopg import sql
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        exists = conn.execute("SELECT to_regclass(%s) AS t", (f'"{project}".publications',))
        if exists.fetchone()["t"] is None:  # type: ignore[index]
            return []
        return list(conn.execute(sql.SQL("SELECT * FROM {}.publications ORDER BY id").format(
            sql.Identifier(project))))


def _state_url(url: str) -> str:
    """The URL as comunicast.yaml holds it: the password as ${VAR}."""
    return url.replace(f":{PASSWORD}@", ":${PG_PASSWORD}@")


def _project(root: Path, senders: dict[str, Any], url: str, project: str | None = None) -> Path:
    make_project(root, senders)
    data = yaml.safe_load((root / "comunicast.yaml").read_text("utf-8"))
    data["state"] = {"url": _state_url(url), **({"project": project} if project else {})}
    (root / "comunicast.yaml").write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return root


def _host(root: Path, name: str) -> dict[str, str]:
    """The environment of one "host": its own state folder, the shared database's password."""
    return {"COMUNICAST_STATE_DIR": str(root / f"host-{name}"), "PG_PASSWORD": PASSWORD}


def test_publish_log_resolve_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    with FakeWebhook() as hook:
        root = _project(tmp_path, {"hook": webhook(hook.url)}, pg_url)
        path = draft(root, "ponte")
        code, doc, err = run_json(root, "publish", str(path), env=_host(root, "a"))
        assert code == 0, err
        assert doc["publications"][0]["state"] == "sent"
        # The default project is a slug of organization.name; nothing went to SQLite.
        [row] = pg_rows(pg_url, "comune-di-cremona")
        assert row["state"] == "sent" and row["draft_id"] == "ponte"
        assert not (root / "host-a" / "ledger.sqlite3").exists()
        # Another host sees it: skipped, and `log` shows it.
        code, doc, _ = run_json(root, "publish", str(path), env=_host(root, "b"))
        assert code == 0 and doc["publications"][0]["state"] == "skipped"
        code, log, _ = run_json(root, "log", env=_host(root, "b"))
        assert code == 0 and [e["state"] for e in log] == ["sent"]
        assert len(hook.deliveries) == 1


def test_two_projects_in_one_database_never_see_each_other(tmp_path: Path, pg_url: str) -> None:
    with FakeWaha() as gateway:
        a = _project(tmp_path / "cremona", {"whatsapp": waha(gateway.url, timeout=1)}, pg_url)
        b = _project(tmp_path / "lodi", {"whatsapp": waha(gateway.url, timeout=1)}, pg_url,
                     project="comune-di-lodi")
        for root in (a, b):
            draft(root, "ponte", extra="publish_at: 2026-12-01 08:00")
        # Cremona's send ends unknown (timeout, not delivered): it blocks only Cremona.
        gateway.script(Reply.slow(2, deliver=False))
        assert run(a, "publish", "--due", env=_host(a, "1")).returncode == 5
        code, doc, err = run_json(b, "publish", "--due", env=_host(b, "1"))
        assert code == 0, err
        assert [p["state"] for p in doc["publications"]] == ["sent"]
        code, log_a, _ = run_json(a, "log", env=_host(a, "1"))
        code, log_b, _ = run_json(b, "log", env=_host(b, "1"))
        assert [e["state"] for e in log_a] == ["unknown"]
        assert [e["state"] for e in log_b] == ["sent"]
        # Lodi has nothing to resolve; resolving Cremona's leaves Lodi's row alone.
        nothing = run(b, "resolve", "ponte", "--sender", "whatsapp", "--as", "failed",
                      env=_host(b, "1"))
        assert nothing.returncode == 2 and "nothing to resolve" in nothing.stderr
        done = run(a, "resolve", "ponte", "--sender", "whatsapp", "--as", "failed",
                   env=_host(a, "2"))
        assert done.returncode == 0, done.stderr
        assert [r["state"] for r in pg_rows(pg_url, "comune-di-cremona")] == ["failed"]
        assert [r["state"] for r in pg_rows(pg_url, "comune-di-lodi")] == ["sent"]
        # --due on Cremona now sends its own draft once; Lodi's stays sent, not resent.
        code, doc, _ = run_json(a, "publish", "--due", env=_host(a, "1"))
        assert code == 0 and [p["state"] for p in doc["publications"]] == ["sent"]
        code, doc, _ = run_json(b, "publish", "--due", env=_host(b, "2"))
        assert code == 0 and doc["publications"] == []
        assert gateway.delivered == 2


def test_a_live_run_on_another_host_is_in_progress_and_a_lost_one_becomes_unknown(
    tmp_path: Path, pg_url: str, pg_server: Any,
) -> None:
    """Host A freezes mid-send (SIGSTOP: its kernel still answers, as a live host's does).
    Host B sees `in-progress`. Then the server drops A's session, as its keepalive checks do
    for a host that vanished (within DEAD_HOST_BOUND): B finds the claim `unknown`, exit 5,
    and never sends it again."""
    import psycopg

    with FakeWebhook(delay=30) as hook:
        root = _project(tmp_path, {"hook": webhook(hook.url, timeout=60)}, pg_url)
        path = draft(root, "ponte")
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMUNICAST_")}
        env.update(SECRETS_ENV, COMUNICAST_NOW=NOW, **_host(root, "a"))
        proc = subprocess.Popen([*comunicast_exe(), "publish", str(path)], cwd=root, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            hook.wait_for_requests(1, timeout=30)
            proc.send_signal(signal.SIGSTOP)
            code, doc, err = run_json(root, "publish", str(path), env=_host(root, "b"))
            assert code == 0, err
            assert doc["publications"][0]["state"] == "in-progress"
            code, log, _ = run_json(root, "log", env=_host(root, "b"))
            assert log[0]["state"] == "sending"
            with psycopg.connect(pg_url, autocommit=True) as admin:
                pids = [r[0] for r in admin.execute(
                    "SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory'")]
                assert len(pids) == 1
                admin.execute("SELECT pg_terminate_backend(%s)", (pids[0],))
            started = time.monotonic()
            while True:
                code, doc, _ = run_json(root, "publish", str(path), env=_host(root, "b"))
                if doc["publications"][0]["state"] != "in-progress" \
                        or time.monotonic() - started > DEAD_HOST_BOUND:
                    break
                time.sleep(0.2)
            assert code == 5 and doc["publications"][0]["state"] == "unknown"
            assert len(hook.requests) == 1
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        [row] = pg_rows(pg_url, "comune-di-cremona")
        assert row["state"] == "unknown"


def test_the_connection_carries_the_keepalive_bound(pg_url: str) -> None:
    from comunicast.ledger import Ledger
    from comunicast.state import PostgresLocation

    with Ledger.open(PostgresLocation(pg_url, "p")) as ledger:
        show = {name: ledger.conn.execute(f"SHOW {name}").fetchone()[0] for name in (
            "tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count",
            "tcp_user_timeout", "idle_session_timeout", "search_path")}
    assert show == {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5",
                    "tcp_keepalives_count": "3", "tcp_user_timeout": "25000",
                    "idle_session_timeout": "0", "search_path": "p"}
    assert DEAD_HOST_BOUND == 30


def test_password_is_masked_everywhere(tmp_path: Path, pg_server: Any) -> None:
    """A wrong database, with --debug: neither the message nor the traceback holds it."""
    url = pg_server.url("no_such_db")
    root = _project(tmp_path, {"console": {"adapter": "console"}}, url)
    draft(root, "ponte")
    for args in (["--debug", "log"], ["publish", "ponte"], ["--debug", "publish", "ponte"]):
        result = run(root, *args, env={"PG_PASSWORD": PASSWORD})
        assert result.returncode == 3, result.stderr
        assert PASSWORD not in result.stdout + result.stderr
        assert "no_such_db" in result.stderr
    env_url = run(root, "log", env={"COMUNICAST_STATE_URL": url.replace("no_such_db", "x2")})
    assert env_url.returncode == 3 and PASSWORD not in env_url.stderr and "x2" in env_url.stderr
    missing = run(root, "log")  # PG_PASSWORD unset: named, exit 3
    assert missing.returncode == 3 and "PG_PASSWORD" in missing.stderr


def test_without_psycopg_a_clear_error_says_what_to_install(tmp_path: Path, pg_url: str) -> None:
    root = _project(tmp_path, {"console": {"adapter": "console"}}, pg_url)
    code = ("import sys; sys.modules['psycopg'] = None\n"
            "from comunicast.cli.app import main\nmain(['log'])\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMUNICAST_")}
    env["PG_PASSWORD"] = PASSWORD
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 3, result.stderr
    assert "pip install 'comunicast[postgresql]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_state_settings_are_config_errors(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"console": {"adapter": "console"}})
    data = yaml.safe_load((root / "comunicast.yaml").read_text("utf-8"))
    data["state"] = {"url": "mysql://u:pw-canary-1@h/db", "project": "Comune Di Lodi"}
    (root / "comunicast.yaml").write_text(yaml.safe_dump(data), "utf-8")
    result = run(root, "log")
    assert result.returncode == 3
    assert "state" in result.stderr and "pw-canary-1" not in result.stderr


def test_ledger_copy_cli_to_postgresql_and_back(tmp_path: Path, pg_url: str) -> None:
    with FakeWebhook() as hook:
        root = make_project(tmp_path, {"hook": webhook(hook.url)})
        draft(root, "ponte")
        draft(root, "scuole", title="Scuole chiuse", body="Le scuole restano chiuse domani.")
        assert run(root, "publish", "ponte", "scuole").returncode == 0
        target = _state_url(pg_url)
        env = {"PG_PASSWORD": PASSWORD}
        code, doc, err = run_json(root, "ledger", "copy", "--to", target, env=env)
        assert code == 0, err
        copied = {t["table"]: t["copied"] for t in doc["tables"]}
        assert copied["publications"] == 2 and copied["events"] >= 6
        assert PASSWORD not in json.dumps(doc) and "***" in doc["to"]
        again = run(root, "ledger", "copy", "--to", target, env=env)
        assert again.returncode == 0 and "publications: 0 copied, 2 already there" in again.stdout
        assert PASSWORD not in again.stdout + again.stderr
        assert len(pg_rows(pg_url, "comune-di-cremona")) == 2
        # Now the project moves to PostgreSQL: it does not send again, and copies back.
        _project(root, {"hook": webhook(hook.url)}, pg_url)
        assert run(root, "publish", "ponte", "scuole", env=env).stdout.count("skipped") == 2
        back = tmp_path / "back.sqlite3"
        done = run(root, "ledger", "copy", "--to", str(back), env=env)
        assert done.returncode == 0, done.stderr
        assert "publications: 2 copied" in done.stdout
        assert len(hook.deliveries) == 2
        # A target holding this project with another history is refused.
        other = tmp_path / "other"
        make_project(other, {"console": {"adapter": "console"}})
        draft(other, "altro")
        assert run(other, "publish", "altro").returncode == 0
        refused = run(other, "ledger", "copy", "--to", target, env=env)
        assert refused.returncode == 3 and "other rows" in refused.stderr


def test_the_state_password_is_among_the_masked_secrets(
    tmp_path: Path, monkeypatch: Any,
) -> None:
    from comunicast.config import load_config
    from comunicast.senders.registry import mask_configured

    root = _project(tmp_path, {"console": {"adapter": "console"}},
                    f"postgresql://comunicast:{PASSWORD}@127.0.0.1:1/db")
    monkeypatch.setenv("PG_PASSWORD", "canary-db-pw-44f1")
    config = load_config(root / "comunicast.yaml")
    text = "failed: postgresql://comunicast:canary-db-pw-44f1@127.0.0.1:1/db canary-db-pw-44f1"
    assert "canary-db-pw-44f1" not in mask_configured(text, config)
    assert "canary-db-pw-44f1" not in repr(config.ledger_path) + str(config.ledger_path)
    monkeypatch.setenv("COMUNICAST_STATE_URL", "postgresql://u:inline-canary-9@h/db")
    assert "inline-canary-9" not in mask_configured("inline-canary-9", config)
    assert "inline-canary-9" not in str(config.ledger_path)
