"""A whole `check` run: load drafts, run the rules, optionally check links online, report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comunicast.rules.cache import FindingsCache, Remembered, is_volatile, volatile_rules
from comunicast.rules.engine import Context, Finding, Severity, run_rules, settings, sort_key
from comunicast.rules.links import LinkAt, checkable_links, online_hits, quick_urls
from comunicast.rules.meta import findings_from_error
from comunicast.rules.parallel import MIN_ITEMS, ChunkMap

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.drafts import Draft
    from comunicast.linkcheck import LinkResult
    from comunicast.linkcheck_child import NetworkChild

JSON_VERSION = 1
#: With --online a child checks the rules while this process waits on the network: worth a fork
#: even for a few drafts.
ONLINE_MIN_ITEMS = 8


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
    #: The drafts that loaded (for checks outside the rules, such as approvals).
    drafts: list[Draft] = field(default_factory=list)

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
    network: NetworkChild | None = None,
) -> Report:
    """Check every draft under `paths`; a draft that cannot be loaded is reported, never fatal."""
    from comunicast.drafts import load_drafts

    chosen = settings(config)  # a bad `rules:` section fails before any work
    loaded = load_drafts(paths, config.tz)
    published = published_ids(config) if chosen["schedule.past"].severity or chosen[
        "schedule.expired"].severity else frozenset()
    # Unchanged drafts under an unchanged configuration: their findings (but the clock's) and
    # links come from the ledger; only the other drafts go through the rules.
    memo = FindingsCache(config, chosen, loaded.drafts, online=online)
    fresh_drafts = [d for i, d in enumerate(loaded.drafts) if i not in memo.remembered]
    keep_links = memo.active

    def check(drafts: Sequence[Draft]) -> list[tuple[list[Finding], list[LinkAt]]]:
        out = []
        for draft in drafts:
            ctx = Context(draft, config, now, published=draft.id in published)
            found = list(run_rules(ctx, chosen))
            # The links travel with the findings: the online pass never parses a body again.
            out.append((found, checkable_links(ctx) if keep_links else []))
        return out

    guess: set[str] = set()
    if online:
        for index, draft in enumerate(loaded.drafts):
            known = memo.remembered.get(index)
            if known is None:
                guess.update(quick_urls(draft.body))
            else:
                guess.update(link.url.strip() for link in known.links)
    # With --online the rules run in forked children while this process asks the network;
    # when the ledger already answers for every link, there is no network to wait for, and
    # the rules are spread over every core as offline.
    waits = online and not _all_cached(guess, config, chosen)
    if not waits:
        # Workers fork from here and would each redo this; when the network is awaited, the
        # rules run in children anyway, and warming up here would only delay the first request.
        _warm_up(fresh_drafts)
    pending = ChunkMap(check, fresh_drafts, in_parent=not waits,
                       min_items=ONLINE_MIN_ITEMS if waits else MIN_ITEMS,
                       nice=5 if waits else 0)
    results: dict[str, LinkResult] = {}
    try:
        if online:
            results = _online(guess, config, chosen, progress or OnlineProgress(), network)
        checked = iter(pending.result())
    finally:
        pending.abandon()
    clock = volatile_rules(chosen)
    outcomes: list[tuple[list[Finding], list[LinkAt]]] = []
    learned: dict[int, Remembered] = {}
    for index, draft in enumerate(loaded.drafts):
        known = memo.remembered.get(index)
        if known is None:
            found, links = next(checked)
            learned[index] = Remembered([f for f in found if not is_volatile(f)], links)
        else:
            ctx = Context(draft, config, now, published=draft.id in published)
            found, links = [*known.findings, *run_rules(ctx, clock)], known.links
        outcomes.append((found, links))
    memo.store(learned)
    if online:
        missing = {link.url.strip() for _found, links in outcomes for link in links} - set(results)
        results.update(_online(missing, config, chosen, progress or OnlineProgress()))
    files: list[FileReport] = []
    for draft, (found, links) in zip(loaded.drafts, outcomes, strict=True):
        report = FileReport(draft.path, draft.id, list(found), draft.source)
        report.findings.extend(_online_findings(links, results, chosen))
        files.append(report)
    for error in loaded.errors:
        files.append(FileReport(error.path, None, findings_from_error(error)))
    for report in files:
        report.findings.sort(key=sort_key)
    files.sort(key=lambda f: str(f.path))
    return Report(files, list(loaded.drafts))


def _warm_up(drafts: Sequence[Draft]) -> None:
    """Import and build, before any fork, what every worker would otherwise redo on its own."""
    if not drafts:
        return
    from comunicast.render import analyze, render
    from comunicast.rules.style import _burocratese

    analyze("*x* https://x.it")
    render("x", title="x", target="plain")
    _burocratese()[1].compile_all()
    if any(d.image is not None for d in drafts):
        import PIL.ExifTags
        import PIL.Image  # noqa: F401


def _all_cached(urls: set[str], config: Config, chosen: dict[str, Any]) -> bool:
    """True when the link cache answers for every URL (or no online rule is on)."""
    from comunicast.linkcheck import all_cached

    if chosen["links.broken"].severity is None and chosen["links.redirect"].severity is None:
        return True
    return all_cached(urls, ttl=float(chosen["links.broken"].options["ttl"]),
                      ledger_path=config.ledger_path)


def _online(urls: set[str], config: Config, chosen: dict[str, Any],
            progress: OnlineProgress, network: NetworkChild | None = None,
            ) -> dict[str, LinkResult]:
    from comunicast.linkcheck import check_links

    broken, redirect = chosen["links.broken"], chosen["links.redirect"]
    if broken.severity is None and redirect.severity is None:
        return {}
    if not urls:
        return {}
    opts = broken.options
    return check_links(
        sorted(urls),
        timeout=float(opts["timeout"]),
        per_host=opts["per_host"],
        concurrency=opts["concurrency"],
        ttl=float(opts["ttl"]),
        ledger_path=config.ledger_path,
        contact=config.organization.website,
        progress=progress.advance,
        on_start=progress.start,
        child=network,
    )


def _online_findings(links: list[LinkAt], results: dict[str, LinkResult],
                     chosen: dict[str, Any]) -> list[Finding]:
    if not results:
        return []
    found = []
    for rule_id, hit in online_hits(links, results):
        severity = chosen[rule_id].severity
        if severity is not None:
            found.append(Finding(rule_id, severity, hit.message, hit.line, hit.column,
                                 hit.suggestion, max(hit.span, 1)))
    return found
