"""Helpers for the publishing tests: a project with senders, drafts, CLI runs, the ledger's rows."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import yaml
from conftest import comunicast_exe

BASE = {
    "organization": {"name": "Comune di Cremona", "website": "https://www.comune.cremona.it"},
    "channel": {"invite_url": "https://whatsapp.com/channel/0029VaTestTestTestTest00"},
    "timezone": "Europe/Rome",
    "links": {"allowed_domains": ["comune.cremona.it"]},
}
#: A fixed "now" for --due selection (drafts below are due before it).
NOW = "2026-12-01T09:00:00"
WEBHOOK_SECRET = "webhook-test-secret-0123456789"
WAHA_KEY = "waha-test-key"
TG_TOKEN = "123456789:AAFakeTokenFakeTokenFakeTokenFake00"


def make_project(
    root: Path,
    senders: dict[str, dict[str, Any]],
    *,
    default: list[str] | None = None,
    publish: dict[str, Any] | None = None,
) -> Path:
    """Write comunicast.yaml with `senders` and an empty messages/ under `root`."""
    (root / "messages").mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {**BASE, "senders": senders}
    if default is not None:
        data["default_senders"] = default
    if publish is not None:
        data["publish"] = publish
    (root / "comunicast.yaml").write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return root


def webhook(url: str, **extra: Any) -> dict[str, Any]:
    """A webhook sender's options (secret from the environment, as users are told to)."""
    return {"adapter": "webhook", "url": url, "secret": "${HOOK_SECRET}", "timeout": 5, **extra}


def waha(url: str, **extra: Any) -> dict[str, Any]:
    """A WAHA sender's options, no minimum interval unless given."""
    return {
        "adapter": "waha", "base_url": url, "chat_id": "120363000000000000@newsletter",
        "api_key": "${WAHA_API_KEY}", "timeout": 5, "min_interval": 0, **extra,
    }


def telegram(url: str, **extra: Any) -> dict[str, Any]:
    """A Telegram sender's options pointing at a loopback Bot API."""
    return {
        "adapter": "telegram", "base_url": url, "chat_id": "@comunedicremona",
        "token": "${TELEGRAM_BOT_TOKEN}", "timeout": 5, **extra,
    }


SECRETS_ENV = {
    "HOOK_SECRET": WEBHOOK_SECRET,
    "WAHA_API_KEY": WAHA_KEY,
    "TELEGRAM_BOT_TOKEN": TG_TOKEN,
}


def draft(
    root: Path,
    name: str,
    *,
    title: str = "Ponte sul Po chiuso",
    body: str = "Il ponte sul Po resta chiuso dal 2 al 5 dicembre per lavori di manutenzione.",
    kind: str = "avviso",
    extra: str = "",
) -> Path:
    """Write messages/<name>.md and return its path."""
    path = root / "messages" / f"{name}.md"
    front = f"title: {title}\nkind: {kind}\n" + textwrap.dedent(extra).strip("\n")
    path.write_text(f"---\n{front.rstrip()}\n---\n{body}\n", encoding="utf-8")
    return path


def run(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed `comunicast` in `root` as cron would (no terminal, secrets in env)."""
    full = {k: v for k, v in os.environ.items() if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    full.update(SECRETS_ENV)
    full["COMUNICAST_NOW"] = NOW
    full.update(env or {})
    return subprocess.run(
        [*comunicast_exe(), *args], cwd=root, env=full, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL, check=False,
    )


def run_json(root: Path, *args: str, **kw: Any) -> tuple[int, dict[str, Any], str]:
    """Run with --format json; (exit code, parsed stdout, stderr)."""
    result = run(root, *args, "--format", "json", **kw)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def rows(root: Path) -> list[dict[str, Any]]:
    """The ledger's publications, straight from SQLite."""
    path = root / ".comunicast" / "ledger.sqlite3"
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM publications ORDER BY id")]
    finally:
        conn.close()


def events(root: Path) -> list[dict[str, Any]]:
    """The ledger's event history, straight from SQLite."""
    conn = sqlite3.connect(root / ".comunicast" / "ledger.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM events ORDER BY id")]
    finally:
        conn.close()


def ledger_bytes(root: Path) -> bytes:
    """Every byte of the ledger and its WAL, for secret scans."""
    state = root / ".comunicast"
    return b"".join(p.read_bytes() for p in sorted(state.glob("ledger.sqlite3*")) if p.is_file())
