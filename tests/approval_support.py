"""Helpers for the approval tests: real ed25519 keys from ssh-keygen, an office project, CLI runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from comunicast.cli.app import app

BASE: dict[str, Any] = {
    "organization": {"name": "Comune di Cremona", "website": "https://www.comune.cremona.it"},
    "channel": {"invite_url": "https://whatsapp.com/channel/0029VaTestTestTestTest00"},
    "timezone": "Europe/Rome",
    "links": {"allowed_domains": ["comune.cremona.it"]},
    "senders": {"archivio": {"adapter": "outbox", "path": "outbox/"}},
}

AVVISO = """\
---
title: Ponte sul Po chiuso dal 2 al 5 dicembre
kind: avviso
author: Giulia Verdi
publish_at: 2026-12-01 08:00
---
Il ponte sul Po resta chiuso dal 2 al 5 dicembre per lavori. Usa i percorsi indicati sul sito.
"""

EMERGENZA = """\
---
title: Allerta meteo rossa sul Po
kind: emergenza
author: Giulia Verdi
---
Allerta rossa per la piena del Po: stai lontano dagli argini e segui le indicazioni.
"""

NOTIZIA = """\
---
title: Nuova biblioteca in piazza
kind: notizia
author: Giulia Verdi
---
La nuova biblioteca apre lunedì in piazza del Comune, con sale studio per tutti.
"""


def need_ssh_keygen() -> str:
    """The ssh-keygen program; the tests that need it skip on a developer's machine without it
    (CI installs openssh-client, and there a missing program fails)."""
    import os

    found = shutil.which("ssh-keygen")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ssh-keygen is missing: .ci/run installs openssh-client")
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    return found


def make_key(folder: Path, name: str) -> Path:
    """A new ed25519 key without passphrase (`ssh-keygen -t ed25519 -N ''`); the private file."""
    program = need_ssh_keygen()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    subprocess.run([program, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
                   check=True, capture_output=True)
    return path


def public(key: Path) -> str:
    """The .pub line of a key."""
    return Path(str(key) + ".pub").read_text(encoding="utf-8").strip()


@dataclass
class Office:
    """A project with approvers Maria Rossi (signs with her key) and Luca Bianchi (no key)."""

    root: Path
    maria_key: Path
    luca_key: Path
    stranger_key: Path

    def configure(self, **approval: Any) -> None:
        """Rewrite comunicast.yaml with these `approval:` settings over the defaults."""
        settings: dict[str, Any] = {
            "required": ["avviso", "emergenza"],
            "min_approvals": 1,
            "approvers": [
                {"name": "Maria Rossi", "key": public(self.maria_key)},
                {"name": "Luca Bianchi"},
            ],
            "urgent_bypass": True,
        }
        settings.update(approval)
        data = {**BASE, "approval": settings}
        (self.root / "comunicast.yaml").write_text(
            yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")

    def draft(self, name: str, text: str = AVVISO) -> Path:
        """Write messages/<name>.md."""
        path = self.root / "messages" / f"{name}.md"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def approval_files(self) -> list[Path]:
        """The files in approvals/."""
        folder = self.root / "approvals"
        return sorted(folder.glob("*.txt")) if folder.is_dir() else []

    def outbox(self, draft_id: str) -> dict[str, Any] | None:
        """The outbox file of a publication, or None when nothing was sent."""
        path = self.root / "outbox" / f"{draft_id}.archivio.json"
        return json.loads(path.read_text("utf-8")) if path.is_file() else None


runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in this process (the current folder is the project)."""
    result = runner.invoke(app, list(args), terminal_width=100, env={"COMUNICAST_LANG": "en"})
    assert "Traceback" not in result.stderr, result.stderr
    return result.exit_code, result.stdout, result.stderr


def invoke_json(*args: str) -> tuple[int, Any, str]:
    """`invoke` with --format json, the document parsed."""
    code, out, err = invoke(*args, "--format", "json")
    return code, json.loads(out), err


def approve_maria(office: Office, *drafts: str) -> tuple[int, str, str]:
    """`comunicast approve DRAFT... --as "Maria Rossi" --key <her key>`."""
    return invoke("approve", *drafts, "--as", "Maria Rossi", "--key", str(office.maria_key))
