"""Findings of unchanged drafts, remembered between `check` runs in the ledger.

Every offline rule is a pure function of the draft file, its image, the configuration and
comunicast's own code and data, except the volatile ones (schedule.*, which read the clock and
the ledger): those run on every check. So the findings of the other rules, and the draft's
links for `--online`, are stored under a hash of all those inputs; an edit to any of them
changes the key, and nothing is ever invalidated by hand. A cron run that checks the same
hundred drafts every five minutes then only loads them and runs the schedule rules.

The cache lives in the ledger only once the ledger exists (a first `publish` or `check
--online` creates it): an offline `check` in a fresh clone writes nothing. It is an
optimisation and never a reason to fail: a ledger that cannot be read or written (locked by a
long transaction, on a read-only disk) is skipped, and the rules simply run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comunicast import __version__
from comunicast.errors import ComunicastError
from comunicast.i18n import current_language
from comunicast.rules.engine import RULES, Finding, Setting, Severity
from comunicast.rules.links import LinkAt

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.drafts import Draft

#: Names the layout of keys and entries; change it when either changes.
KEY_VERSION = "comunicast-findings-v2"
#: Entries unused for this long are forgotten (drafts edited or removed long ago).
FORGET_AFTER = 30 * 86400.0
#: A remembered entry is marked as used again at most this often (a cached run stays read-only).
TOUCH_EVERY = 86400.0
#: Adapters shipped with comunicast: their limits are part of its code, already in the key.
BUILTIN_ADAPTERS = frozenset({"console", "outbox", "webhook", "waha", "telegram"})
#: Libraries whose behaviour decides findings: the Markdown parser (links, unsupported
#: constructs), the image library (format, EXIF), the YAML and validation of drafts. An upgrade
#: of one of them alone leaves comunicast's version and files as they were.
LIBRARIES = ("markdown_it", "mdurl", "PIL", "yaml", "pydantic", "pydantic_core")
#: How long storing waits for another process's write lock (a `publish` recording a claim).
STORE_BUSY_MS = 2000


@dataclass(frozen=True)
class Remembered:
    """What the cache holds for one draft: the findings of the stable rules, and its links."""

    findings: list[Finding]
    links: list[LinkAt]

    def dumps(self) -> str:
        """Compact JSON."""
        return json.dumps(
            {"f": [[f.rule, int(f.severity), f.message, f.line, f.column, f.suggestion, f.span]
                   for f in self.findings],
             "l": [list(astuple(link)) for link in self.links]},
            ensure_ascii=False, separators=(",", ":"),
        )

    @classmethod
    def loads(cls, data: str) -> Remembered:
        """The entry written by `dumps` (ValueError/TypeError/KeyError if it is not one)."""
        raw = json.loads(data)
        findings = [Finding(rule, Severity(sev), msg, line, col, sug, span)
                    for rule, sev, msg, line, col, sug, span in raw["f"]]
        links = [LinkAt(*item) for item in raw["l"]]
        # Well-formed JSON of the wrong types (a hand edit) must not reach the sorting and
        # printing of findings: such an entry is treated as damaged, and checked again.
        for f in findings:
            if not (isinstance(f.rule, str) and isinstance(f.message, str)
                    and _place(f.line) and _place(f.column) and isinstance(f.span, int)
                    and (f.suggestion is None or isinstance(f.suggestion, str))):
                raise TypeError("not a remembered finding")
        for link in links:
            if not (isinstance(link.url, str) and all(
                    _place(x) for x in (link.line, link.column, link.url_line, link.url_column))
                    and (link.label is None or isinstance(link.label, str))):
                raise TypeError("not a remembered link")
        return cls(findings, links)


def _place(value: object) -> bool:
    """A 1-based line or column, or None."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def volatile_rules(chosen: dict[str, Setting]) -> dict[str, Setting]:
    """The settings of the rules that run on every check (they read the clock or the ledger)."""
    return {k: v for k, v in chosen.items() if RULES[k].volatile}


def is_volatile(finding: Finding) -> bool:
    """True for a finding of a rule that is never remembered."""
    spec = RULES.get(finding.rule)
    return spec is not None and spec.volatile


def _code_fingerprint() -> list[tuple[str, int, int]]:
    """(path, size, mtime) of every file of the installed package: a reinstall or an edit of
    comunicast's rules or data (shortener list, burocratese) is a new key."""
    root = Path(__file__).resolve().parent.parent
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            found.append((os.path.relpath(os.path.join(folder, name), root), st.st_size,
                          st.st_mtime_ns))
    return found


def _library_fingerprint() -> list[tuple[str, int, int]]:
    """(name, size, mtime) of each library's `__init__` as installed: installing another
    version writes it anew. Found without importing them (a cached check never needs them)."""
    from importlib.util import find_spec

    found = []
    for name in LIBRARIES:
        try:
            spec = find_spec(name)
            st = os.stat(spec.origin) if spec is not None and spec.origin else None
        except (ImportError, ValueError, OSError):
            st = None
        found.append((name, st.st_size, st.st_mtime_ns) if st else (name, -1, -1))
    return found


def _plugin_limits(config: Config) -> list[tuple[str, str]]:
    """The limits of senders served by plugin adapters (their code is not ours to fingerprint)."""
    from comunicast.senders.registry import limits_for

    found = []
    for name, sender in sorted(config.senders.items()):
        if sender.adapter in BUILTIN_ADAPTERS:
            continue
        try:
            found.append((name, repr(limits_for(config, name))))
        except ComunicastError:
            found.append((name, "unavailable"))
    return found


def run_key(config: Config, chosen: dict[str, Setting]) -> hashlib._Hash:
    """A hash of everything a run's findings depend on besides the draft itself."""
    h = hashlib.sha256()
    parts: dict[str, Any] = {
        "version": KEY_VERSION,
        "comunicast": __version__,
        "python": list(sys.version_info[:2]),
        "code": _code_fingerprint(),
        "libraries": _library_fingerprint(),
        # Rules read the configuration's values (domains, allow list, render options,
        # senders, language); `${VAR}` is only ever resolved in sender options, which no rule
        # reads, so the validated configuration as written is the whole input.
        "config": config.model_dump(mode="json"),
        "rules": {k: [None if v.severity is None else int(v.severity), v.options]
                  for k, v in sorted(chosen.items())},
        "plugins": _plugin_limits(config),
        # Findings are remembered as they were worded: in the language of the run that made
        # them (COMUNICAST_LANG or the locale may change it without touching comunicast.yaml).
        "language": current_language(),
    }
    h.update(json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode())
    return h


def draft_key(base: hashlib._Hash, draft: Draft) -> str:
    """The key of one draft's entry: the run's inputs, the file's place and text, its image."""
    h = base.copy()
    h.update(b"\0path\0" + os.path.abspath(draft.path).encode("utf-8", "surrogateescape"))
    h.update(b"\0text\0" + draft.source.encode("utf-8", "surrogateescape"))
    if draft.image is not None:
        try:
            st = os.stat(draft.image)
            # ctime too: a file rewritten in place with its mtime set back (`cp -p`,
            # `touch -r`, `rsync -t --inplace`) keeps size, mtime and inode.
            image = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"
        except OSError as exc:
            image = f"unreadable:{exc.errno}"
        h.update(b"\0image\0" + str(draft.image).encode("utf-8", "surrogateescape")
                 + b"\0" + image.encode())
    return "sha256:" + h.hexdigest()


class FindingsCache:
    """The remembered findings of one `check` run's drafts."""

    def __init__(self, config: Config, chosen: dict[str, Setting], drafts: Sequence[Draft],
                 *, online: bool = False) -> None:
        self.ledger_path = config.ledger_path
        self.remembered: dict[int, Remembered] = {}
        self._stale: list[str] = []
        #: False when there is no ledger and this run will not create one (offline, fresh clone).
        self.active = online or self.ledger_path.is_file()
        self.keys: list[str] = []
        if self.active:
            base = run_key(config, chosen)
            self.keys = [draft_key(base, d) for d in drafts]
            self._lookup()

    def _lookup(self) -> None:
        from comunicast.ledger import Ledger

        try:
            ledger = Ledger.open_existing(self.ledger_path)
        except ComunicastError:
            return
        if ledger is None:
            return
        try:
            rows = ledger.check_cache_get_many(self.keys)
        except sqlite3.Error:  # a ledger from before the cache, or busy: run the rules
            return
        finally:
            ledger.close()
        touch_before = time.time() - TOUCH_EVERY
        for index, key in enumerate(self.keys):
            row = rows.get(key)
            if row is None:
                continue
            try:
                self.remembered[index] = Remembered.loads(row[1])
            except (ValueError, TypeError, KeyError):
                continue  # damaged entry: the rules run and overwrite it
            if row[0] < touch_before:
                self._stale.append(key)

    def store(self, fresh: dict[int, Remembered]) -> None:
        """Remember the entries computed in this run (by draft index), if the ledger exists."""
        if not self.active or (not fresh and not self._stale):
            return
        if not self.ledger_path.is_file():
            return  # an offline check never creates the project's state
        from comunicast.ledger import Ledger

        try:
            # Never hold a check for long, not even while a ledger from before the cache
            # waits for the write lock its upgrade needs.
            with Ledger.open(self.ledger_path, busy_timeout_ms=STORE_BUSY_MS) as ledger:
                ledger.check_cache_put_many(
                    ((self.keys[i], entry.dumps()) for i, entry in fresh.items()),
                    touch=self._stale, forget_before=time.time() - FORGET_AFTER,
                )
        except (ComunicastError, sqlite3.Error, OSError):
            pass  # read-only, locked or damaged: the next run will simply check again
