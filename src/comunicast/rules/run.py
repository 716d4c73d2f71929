"""A whole `check` run: load drafts, run the rules, optionally check links online, report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comunicast.rules.engine import Context, Finding, Severity, run_rules, settings, sort_key
from comunicast.rules.links import LinkAt, checkable_links, online_hits
from comunicast.rules.meta import findings_from_error
from comunicast.rules.parallel import map_chunks

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.drafts import Draft

JSON_VERSION = 1


@dataclass
class FileReport:
    """The findings of one draft file (or the problems that stopped it from loading)."""

    path: Path
    draft_id: str | None
    findings: list[Finding] = field(default_factory=list)
    source: str | None = None

    @property
    def shown_path(self) -> str:
        """The path relative to the current folder when possible."""
        try:
            return str(self.path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(self.path)


@dataclass
class Report:
    """Everything a `check` run found."""

    files: list[FileReport]

    def count(self, severity: Severity) -> int:
        """How many findings of exactly `severity`."""
        return sum(1 for f in self.files for x in f.findings if x.severity == severity)

    def failed(self, *, strict: bool = False) -> bool:
        """True when the run must exit 1: errors (or warnings with `strict`)."""
        floor = Severity.WARNING if strict else Severity.ERROR
        return any(x.severity >= floor for f in self.files for x in f.findings)

    def to_json(self) -> dict[str, Any]:
        """SPEC §3.2."""
        return {
            "version": JSON_VERSION,
            "files": [
                {"path": f.shown_path, "draft_id": f.draft_id,
                 "findings": [x.to_json() for x in f.findings]}
                for f in self.files
            ],
            "summary": {
                "files": len(self.files),
                "errors": self.count(Severity.ERROR),
                "warnings": self.count(Severity.WARNING),
                "infos": self.count(Severity.INFO),
            },
        }


def published_ids(config: Config) -> frozenset[str]:
    """Ids of drafts the ledger records as published or being published (one query)."""
    from comunicast.ledger import Ledger

    ledger = Ledger.open_existing(config.ledger_path)
    if ledger is None:
        return frozenset()  # no ledger yet: nothing was ever published
    try:
        return frozenset(p.draft_id for p in ledger.publications() if p.state != "failed")
    finally:
        ledger.close()


@dataclass(frozen=True)
class OnlineProgress:
    """Callbacks for the online pass: `start(n)` before n requests, `advance(done, total)`."""

    start: Callable[[int], None] | None = None
    advance: Callable[[int, int], None] | None = None


def run_check(
    paths: list[Path],
    config: Config,
    *,
    now: datetime,
    online: bool = False,
    progress: OnlineProgress | None = None,
) -> Report:
    """Check every draft under `paths`; a draft that cannot be loaded is reported, never fatal."""
    from comunicast.drafts import load_drafts

    chosen = settings(config)  # a bad `rules:` section fails before any work
    loaded = load_drafts(paths, config.tz)
    published = published_ids(config) if chosen["schedule.past"].severity or chosen[
        "schedule.expired"].severity else frozenset()
    def check(drafts: Sequence[Draft]) -> list[tuple[list[Finding], list[LinkAt]]]:
        out = []
        for draft in drafts:
            ctx = Context(draft, config, now, published=draft.id in published)
            found = list(run_rules(ctx, chosen))
            # The links travel with the findings, so the online pass never parses a body again.
            out.append((found, checkable_links(ctx) if online else []))
        return out

    _warm_up(loaded.drafts)
    files: list[FileReport] = []
    linked: list[tuple[list[LinkAt], FileReport]] = []
    for draft, (found, links) in zip(loaded.drafts, map_chunks(check, loaded.drafts), strict=True):
        report = FileReport(draft.path, draft.id, found, draft.source)
        files.append(report)
        linked.append((links, report))
    for error in loaded.errors:
        files.append(FileReport(error.path, None, findings_from_error(error)))
    if online:
        _online(linked, config, chosen, progress or OnlineProgress())
    for report in files:
        report.findings.sort(key=sort_key)
    files.sort(key=lambda f: str(f.path))
    return Report(files)


def _warm_up(drafts: Sequence[Draft]) -> None:
    """Import and build, before any fork, what every worker would otherwise redo on its own."""
    if not drafts:
        return
    from comunicast.render import analyze, render
    from comunicast.rules.style import _burocratese

    analyze("*x* https://x.it")
    render("x", title="x", target="plain")
    _burocratese()
    if any(d.image is not None for d in drafts):
        import PIL.ExifTags
        import PIL.Image  # noqa: F401


def _online(linked: list[tuple[list[LinkAt], FileReport]], config: Config,
            chosen: dict[str, Any], progress: OnlineProgress) -> None:
    from comunicast.linkcheck import check_links

    broken, redirect = chosen["links.broken"], chosen["links.redirect"]
    if broken.severity is None and redirect.severity is None:
        return
    urls = [link.url.strip() for links, _report in linked for link in links]
    if not urls:
        return
    opts = broken.options
    results = check_links(
        urls,
        timeout=float(opts["timeout"]),
        per_host=opts["per_host"],
        concurrency=opts["concurrency"],
        ttl=float(opts["ttl"]),
        ledger_path=config.ledger_path,
        contact=config.organization.website,
        progress=progress.advance,
        on_start=progress.start,
    )
    for links, report in linked:
        for rule_id, hit in online_hits(links, results):
            severity = chosen[rule_id].severity
            if severity is None:
                continue
            report.findings.append(Finding(rule_id, severity, hit.message, hit.line, hit.column,
                                           hit.suggestion, max(hit.span, 1)))

