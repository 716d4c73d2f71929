"""The desk: `index.html` in an outbox folder, the page staff paste from (SPEC §9).

It lists the publications of the folder newest first, each shown as WhatsApp will show it, with
a «Copia testo» button that puts on the clipboard exactly the `text` of its JSON file, the image
with a download link and its alternative text, and whether someone marked it pasted. A
correction (SPEC §10) is pasted the same way over the published update; a withdrawal has
nothing to paste: it says to delete the update by hand and shows its text only to recognise it.
The JSON files are the truth; the page is rebuilt from them after every write, atomically.

A `publish` of many drafts writes many files through one sender instance: each file's entry is
rendered once and kept (keyed by the file's name, size and mtime), so every refresh only joins
the kept entries, and the page is bounded to the newest `DESK_SIZE` publications.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comunicast.i18n import _
from comunicast.site.markup import to_html

if TYPE_CHECKING:
    from jinja2 import Environment

DESK = "index.html"
#: The page shows the newest publications; older files stay in the folder.
DESK_SIZE = 200
TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class _Entry:
    key: tuple[int, int]
    created_at: float
    name: str
    html: str


class Desk:
    """Keeps `index.html` of one outbox folder up to date."""

    def __init__(self, folder: Path, *, sender: str, language: str, organization: str) -> None:
        self.folder = folder
        self.sender = sender
        self.language = language
        self.organization = organization
        self._entries: dict[str, _Entry] = {}
        self._env: Environment | None = None

    def refresh(self) -> None:
        """Rebuild the page from the folder's JSON files (only new or changed ones are read)."""
        from comunicast.senders.outbox import write_atomic

        current = self._scan()
        entries = sorted(current, key=lambda e: e.name)
        entries.sort(key=lambda e: e.created_at, reverse=True)
        env = self._environment()
        from markupsafe import Markup

        page = env.get_template("desk.html").render(
            lang=self.language,
            sender=self.sender,
            organization=self.organization,
            entries=[Markup(e.html) for e in entries],
            total=len(entries),
        )
        # A view of the JSON files, rebuilt on every write: atomic, not worth an fsync.
        write_atomic(self.folder / DESK, page.encode("utf-8"), durable=False)

    def _scan(self) -> list[_Entry]:
        found: list[tuple[int, str, os.stat_result]] = []
        with os.scandir(self.folder) as it:
            for item in it:
                if not item.name.endswith(".json") or item.name.startswith("."):
                    continue
                try:
                    stat = item.stat()
                except OSError:
                    continue
                found.append((stat.st_mtime_ns, item.name, stat))
        found.sort(reverse=True)
        entries: list[_Entry] = []
        keep: dict[str, _Entry] = {}
        for _mtime, name, stat in found:
            if len(entries) >= DESK_SIZE:
                break
            key = (stat.st_size, stat.st_mtime_ns)
            entry = self._entries.get(name)
            if entry is None or entry.key != key:
                entry = self._read(name, key)
            if entry is None:
                continue
            keep[name] = entry
            if entry.html:
                entries.append(entry)
        self._entries = keep
        return entries

    def _read(self, name: str, key: tuple[int, int]) -> _Entry | None:
        try:
            doc = json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict):
            return _Entry(key, 0.0, name, "")
        stem = f"{doc.get('draft_id')}.{doc.get('sender')}"
        action = doc.get("action")
        # A publication, or a correction (SPEC §10: the new text to paste over the old one),
        # or a withdrawal (the update to delete by hand; its text, what to look for, may be
        # unknown). Copies of earlier revisions (`<stem>.<hash>.json`) are not shown.
        shown = (action is None and name == f"{stem}.json"
                 or action == "edit" and name.startswith(f"{stem}.correction.")
                 or action == "withdraw" and name == f"{stem}.withdrawal.json")
        if action == "withdraw" and not isinstance(doc.get("text"), str):
            doc["text"] = ""
        if not shown or not isinstance(doc.get("text"), str):
            return _Entry(key, 0.0, name, "")
        html = self._environment().get_template("desk_entry.html").render(
            e=_view(doc, name, self.language)
        )
        try:
            created = datetime.fromisoformat(str(doc.get("created_at"))).timestamp()
        except (ValueError, OverflowError, OSError):
            created = 0.0
        return _Entry(key, created, name, html)

    def _environment(self) -> Environment:
        if self._env is None:
            import jinja2

            self._env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                autoescape=True, trim_blocks=True, lstrip_blocks=True,
                undefined=jinja2.StrictUndefined, auto_reload=False,
            )
            self._env.globals.update(_=_)
        return self._env


def _view(doc: dict[str, Any], name: str, language: str) -> dict[str, Any]:
    from markupsafe import Markup

    from comunicast.site.build import kind_label

    text = doc["text"]
    stem = name.removesuffix(".json")
    image = doc.get("image") if isinstance(doc.get("image"), str) else None
    return {
        "id": "p-" + "".join(c if c.isalnum() else "-" for c in stem),
        "draft_id": str(doc.get("draft_id")),
        "sender": str(doc.get("sender")),
        "title": str(doc.get("title") or doc.get("draft_id")),
        "kind": kind_label(str(doc.get("kind") or "")),
        "created": _when(doc.get("created_at"), language),
        "created_iso": str(doc.get("created_at") or ""),
        "pasted": _when(doc.get("pasted_at"), language) if doc.get("pasted_at") else None,
        "html": Markup(to_html(text, markup=doc.get("target", "whatsapp") == "whatsapp")),
        "json": Markup(_script_json(text)),
        "text": text,
        "image": image,
        "image_alt": doc.get("image_alt"),
        "length": len(text),
        "action": doc.get("action") if doc.get("action") in ("edit", "withdraw") else None,
        "reason": str(doc.get("reason") or ""),
        "replaces": str(doc.get("replaces") or ""),
    }


def _when(value: Any, language: str) -> str:
    from comunicast.site.build import format_when

    try:
        return format_when(datetime.fromisoformat(str(value)), language)
    except ValueError:
        return str(value or "")


def _script_json(text: str) -> str:
    """`text` as a JSON string safe inside `<script type="application/json">`."""
    raw = json.dumps(text, ensure_ascii=False)
    return (raw.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
