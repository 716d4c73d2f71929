"""Helpers for the rule tests: a real project folder, a real draft file, findings of one rule."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import MINIMAL_CONFIG

from comunicast.config import Config, load_config
from comunicast.drafts import Draft, load_draft
from comunicast.rules import Finding, check_draft

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=ROME)


def make_config(tmp_path: Path, extra: str = "", base: str = MINIMAL_CONFIG) -> Config:
    """A real comunicast.yaml in `tmp_path` (MINIMAL_CONFIG plus `extra` YAML), loaded."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "comunicast.yaml"
    path.write_text(base + textwrap.dedent(extra), encoding="utf-8")
    return load_config(path)


def make_draft(tmp_path: Path, text: str, config: Config, name: str = "bozza.md") -> Draft:
    """Write `text` (dedented) as a draft file and load it as `check` would."""
    path = tmp_path / "messages" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_draft(path, config.tz)


def md(body: str, **fields: str) -> str:
    """A .md draft with front matter `fields` (title and kind defaulted) and `body`."""
    front = {"title": "Avviso di prova", "kind": "avviso", **fields}
    lines = "\n".join(f"{k}: {v}" for k, v in front.items())
    return f"---\n{lines}\n---\n{textwrap.dedent(body).lstrip(chr(10))}"


def findings(
    tmp_path: Path,
    text: str,
    rule: str | None = None,
    *,
    extra: str = "",
    now: datetime = NOW,
    published: bool = False,
) -> list[Finding]:
    """Findings (of `rule`, if given) for a draft of `text` under MINIMAL_CONFIG + `extra`."""
    config = make_config(tmp_path, extra)
    draft = make_draft(tmp_path, text, config)
    found = check_draft(draft, config, now=now, published=published)
    return [f for f in found if rule is None or f.rule == rule]


def places(found: list[Finding]) -> list[tuple[int | None, int | None]]:
    """(line, column) of each finding."""
    return [(f.line, f.column) for f in found]
