"""`publish --due` racing edits of the drafts and `approve`: only approved content ever goes out.

Real processes: an editor that keeps swapping the drafts' text and image, an approver running
`comunicast approve`, and cron's `publish --due`, all at once. Whatever is sent must be exactly
the content revision the ledger says was approved, and an approval file for it must exist.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from approval_support import Office, make_key
from conftest import comunicast_exe, run_cli
from PIL import Image

from comunicast.approvals import approvals_dir, load_approvals
from comunicast.config import load_config
from comunicast.drafts import load_draft
from comunicast.ledger import Ledger
from comunicast.revision import content_revision

NOW = "2026-12-01T09:00:00"
BODIES = {
    "uno": "Il ponte sul Po resta chiuso dal 2 al 5 dicembre: variante uno dei percorsi.",
    "due": "Il ponte sul Po resta chiuso dal 2 al 9 dicembre: variante due dei percorsi.",
}

EDITOR = textwrap.dedent("""
    import os, random, sys, time
    from pathlib import Path
    folder, stop = Path(sys.argv[1]), Path(sys.argv[2])
    variants = {name: (folder / f".{name}").read_bytes() for name in sys.argv[3:]}
    drafts = sorted(p for p in folder.glob("*.md"))
    rng = random.Random(7)
    while not stop.exists():
        for path in drafts:
            body = rng.choice(["md-uno", "md-due"])
            image = rng.choice(["png-rosso", "png-blu"])
            for name, target in ((body, path), (image, path.with_suffix(".png"))):
                tmp = target.with_name(f".{target.name}.tmp")
                tmp.write_bytes(variants[name].replace(b"@ID@", path.stem.encode()))
                os.replace(tmp, target)  # a reader sees one version or the other, whole
        time.sleep(0.005)
""")


def _png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), color).save(out, "PNG")
    return out.getvalue()


def _draft_text(body: str) -> str:
    return (
        "---\ntitle: Ponte sul Po chiuso\nkind: avviso\nauthor: Giulia Verdi\n"
        "publish_at: 2026-12-01 08:00\nimage: @ID@.png\nimage_alt: Mappa dei percorsi\n---\n"
        f"{body}\n"
    )


def _office(tmp_path: Path, drafts: int) -> tuple[Office, dict[tuple[str, str], bytes]]:
    keys = tmp_path / "keys"
    root = tmp_path / "office"
    messages = root / "messages"
    messages.mkdir(parents=True)
    office = Office(root, make_key(keys, "maria"), make_key(keys, "luca"),
                    make_key(keys, "stranger"))
    office.configure()
    variants = {
        "md-uno": _draft_text(BODIES["uno"]).encode(),
        "md-due": _draft_text(BODIES["due"]).encode(),
        "png-rosso": _png((200, 30, 30)),
        "png-blu": _png((20, 60, 200)),
    }
    for name, data in variants.items():
        (messages / f".{name}").write_bytes(data)
    for i in range(drafts):
        draft_id = f"ponte-{i}"
        (messages / f"{draft_id}.md").write_bytes(variants["md-uno"].replace(
            b"@ID@", draft_id.encode()))
        (messages / f"{draft_id}.png").write_bytes(variants["png-rosso"])
    return office, {("body", k): v for k, v in variants.items()}


def _revisions(office: Office, draft_id: str) -> dict[tuple[str, str], str]:
    """Content revision of every (text, image) combination the editor can leave on disk."""
    config = load_config(office.root / "comunicast.yaml")
    out = {}
    scratch = office.root.parent / "combos"
    scratch.mkdir(exist_ok=True)
    for body_name, body in BODIES.items():
        path = scratch / f"{draft_id}.md"
        path.write_text(_draft_text(body).replace("@ID@", draft_id), "utf-8")
        draft = load_draft(path, config.tz)
        for image_name, color in (("rosso", (200, 30, 30)), ("blu", (20, 60, 200))):
            digest = hashlib.sha256(_png(color)).hexdigest()
            out[(body_name, image_name)] = content_revision(draft, digest)
    return out


def _sent_combo(office: Office, draft_id: str) -> tuple[str, str] | None:
    sent = office.outbox(draft_id)
    if sent is None:
        return None
    body = next(name for name, text in BODIES.items() if text.split(":")[1] in sent["text"])
    image = (office.root / "outbox" / sent["image"]).read_bytes()
    color = next(name for name, rgb in (("rosso", (200, 30, 30)), ("blu", (20, 60, 200)))
                 if image == _png(rgb))
    return body, color


def _recorded(office: Office) -> dict[str, set[str]]:
    with Ledger.open(office.root / ".comunicast" / "ledger.sqlite3") as ledger:
        rows = ledger.conn.execute(
            "SELECT p.draft_id, a.content_revision FROM publication_approvals a"
            " JOIN publications p ON p.id = a.publication_id WHERE p.state = 'sent'").fetchall()
    out: dict[str, set[str]] = {}
    for draft_id, revision in rows:
        out.setdefault(draft_id, set()).add(revision)
    return out


def _start_editor(office: Office, stop: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", EDITOR, str(office.root / "messages"), str(stop),
         "md-uno", "md-due", "png-rosso", "png-blu"])


def _race(tmp_path: Path, drafts: int, runs: int) -> None:
    office, _variants = _office(tmp_path, drafts)
    env = {"COMUNICAST_NOW": NOW, "HOME": os.environ["HOME"], "COMUNICAST_LANG": "en"}
    ids = [f"ponte-{i}" for i in range(drafts)]
    combos = {draft_id: _revisions(office, draft_id) for draft_id in ids}

    # Phase 1: only (uno, rosso) is approved, then the editor keeps swapping text and image
    # while cron runs. Nothing but that exact content may go out.
    done = run_cli(["approve", *[f"messages/{d}.md" for d in ids[: drafts // 2]], "--as",
                    "Maria Rossi", "--key", str(office.maria_key)], office.root, env=env)
    assert done.returncode == 0, done.stderr
    stop = tmp_path / "stop"
    editor = _start_editor(office, stop)
    try:
        for _ in range(runs):
            due = run_cli(["publish", "--due"], office.root, env=env)
            assert due.returncode in (0, 1), due.stderr
            assert "Traceback" not in due.stderr
    finally:
        stop.touch()
        editor.wait(timeout=30)
    for draft_id in ids:
        combo = _sent_combo(office, draft_id)
        assert combo in (None, ("uno", "rosso")), (draft_id, combo)
    recorded = _recorded(office)
    for draft_id, revisions in recorded.items():
        assert revisions == {combos[draft_id][("uno", "rosso")]}, draft_id

    # Phase 2: the approver approves whatever is on disk at that instant, again and again,
    # while the editor swaps and cron publishes the rest.
    stop.unlink()
    editor = _start_editor(office, stop)
    approver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import subprocess, sys
            from pathlib import Path
            exe, stop, key, *drafts = sys.argv[1:]
            while not Path(stop).exists():
                subprocess.run([exe, "approve", *drafts, "--as", "Maria Rossi", "--key", key],
                               capture_output=True)
        """), comunicast_exe()[0], str(stop), str(office.maria_key),
         *[f"messages/{d}.md" for d in ids]],
        cwd=office.root, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 60
        for _ in range(runs):
            due = run_cli(["publish", "--due"], office.root, env=env)
            assert due.returncode in (0, 1), due.stderr
            assert "Traceback" not in due.stderr
            if all(office.outbox(d) is not None for d in ids) or time.monotonic() > deadline:
                break
    finally:
        stop.touch()
        editor.wait(timeout=30)
        approver.wait(timeout=60)
    # Once nothing moves any more, approving and publishing send every draft still waiting
    # (whether the racing runs sent some depends on timing; what they sent is checked below).
    done = run_cli(["approve", *[f"messages/{d}.md" for d in ids], "--as", "Maria Rossi",
                    "--key", str(office.maria_key)], office.root, env=env)
    assert done.returncode == 0, done.stderr
    due = run_cli(["publish", "--due"], office.root, env=env)
    assert due.returncode == 0, due.stderr

    config = load_config(office.root / "comunicast.yaml")
    approved = {(a.draft_id, a.revision) for a in load_approvals(config).files}
    assert approvals_dir(config).is_dir()
    recorded = _recorded(office)
    sent = 0
    for draft_id in ids:
        combo = _sent_combo(office, draft_id)
        if combo is None:
            continue
        sent += 1
        revision = combos[draft_id][combo]
        # What went out is what was approved: the ledger's record and an approval file agree.
        assert recorded[draft_id] == {revision}, (draft_id, combo)
        assert (draft_id, revision) in approved, (draft_id, combo)
    assert sent == drafts
    with Ledger.open(office.root / ".comunicast" / "ledger.sqlite3") as ledger:
        states = {p.draft_id: p.state for p in ledger.publications()}
    assert set(states.values()) <= {"sent"}
    json.dumps(states)  # the ledger is readable and whole


def test_publish_due_racing_edits_and_approve_sends_only_approved_content(
    tmp_path: Path,
) -> None:
    _race(tmp_path, drafts=2, runs=2)


@pytest.mark.stress
def test_publish_due_racing_edits_and_approve_many_rounds(tmp_path: Path) -> None:
    _race(tmp_path, drafts=12, runs=25)
