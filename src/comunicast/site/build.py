"""`comunicast site`: the static archive site, built from the ledger (SPEC §9).

Each output file is described by the data it shows (a JSON-ready context) before anything is
rendered; its hash, together with the build key (comunicast's version, the templates, the site
settings), is kept in a manifest in the site folder. A rebuild renders only the files whose hash
changed and hard-links the others from the previous site, so a new publication re-renders its
own page, the index pages and the feeds. A rebuild where nothing changed writes nothing at all.

The texts are read from the ledger only for the messages that changed: the manifest keeps, per
draft, a digest of the ledger rows its message is made from (`archive.fingerprints`) with what
the plan needs of it (its hash, page, date, image); the others are read when a file shows them
(the feeds' newest fifty, a page to make again).

Every build goes into a temporary folder beside the target and is swapped in at once
(`swap.put_in_place`): a build killed midway leaves the previous site as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comunicast import __version__
from comunicast.errors import ComunicastError, ConfigError
from comunicast.i18n import _
from comunicast.site.archive import SiteMessage, current_messages, fingerprints
from comunicast.site.markup import WORD_JOINER, to_html, without_title
from comunicast.site.swap import put_in_place, recover

if TYPE_CHECKING:
    from jinja2 import Environment

    from comunicast.config import Config
    from comunicast.ledger import Ledger

PER_PAGE = 20
FEED_SIZE = 50
MANIFEST = ".comunicast-site.json"
TEMPLATES = Path(__file__).parent / "templates"
_IMAGE_SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png"}
_LIST_RE = re.compile(r"^\s*(?:[-*•>]|\d{1,9}[.)])\s+")
_MARKERS_RE = re.compile(r"(?<![^\W_])[*_~]+|[*_~]+(?![^\W_])|`")


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    out: Path
    messages: int
    pages: int
    rendered: int
    reused: int
    changed: bool


@dataclass(frozen=True)
class _File:
    path: str
    digest: str
    produce: Callable[[], bytes]


def site_out(config: Config, out: Path | None) -> Path:
    """The folder to build into: `--out`, or `site/` beside comunicast.yaml."""
    return (out if out is not None else config.root / "site").absolute()


def build_site(config: Config, out: Path, *, now: datetime) -> BuildReport:
    """Build (or bring up to date) the site in `out` from the ledger."""
    base_url = config.site.base_url
    if not base_url:
        raise config.error(
            _("site.base_url is missing: the feeds and pages need the address the site is "
              "published at"),
            "site",
            hint=_("add to comunicast.yaml:  site: {{base_url: https://www.comune.example.it/"
                   "notizie/}}").format(),
        )
    _check_target(out)
    # Thousands of messages, views and pages, none in a cycle that matters for one build: the
    # cyclic collector would walk them all again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build_site(config, out, now=now)
    finally:
        if collecting:
            gc.enable()


def _build_site(config: Config, out: Path, *, now: datetime) -> BuildReport:
    from comunicast.ledger import Ledger
    from comunicast.site.archive import backfill

    blobs: Ledger | None = None
    if config.ledger_path.is_file():
        blobs = Ledger.open(config.ledger_path)
    try:
        if blobs is not None:
            backfill(blobs, config)
        with _build_lock(out):
            recover(out)
            return _build(config, out, blobs, now=now)
    finally:
        if blobs is not None:
            blobs.close()


def _check_target(out: Path) -> None:
    """Refuse to replace a folder that is not a site comunicast built (e.g. `--out ~`)."""
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise ConfigError(
            _("{path} exists and is not a site built by comunicast; it would be replaced").format(
                path=out),
            hint=_("choose another folder with --out, or empty this one"),
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(_("{path} is not a folder").format(path=out))


class _build_lock:
    """One build at a time per site: a second waits (the lock file sits beside the folder)."""

    def __init__(self, out: Path) -> None:
        self.path = out.with_name(f".{out.name}.lock")
        self.fd = -1

    def __enter__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        # Temporary folders left by builds that were killed: nobody else holds the lock.
        for stale in self.path.parent.glob(f".{self.path.name[1:-5]}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def _build(config: Config, out: Path, ledger: Ledger | None, *, now: datetime) -> BuildReport:
    env = _LazyEnvironment(config)
    settings = _settings(config)
    key = _build_key(settings)
    previous = _read_manifest(out)
    old = previous.files
    messages_key = _messages_key(key)
    entries, table = _entries(ledger, config.tz, previous.messages
                              if messages_key and previous.messages_key == messages_key else {})
    plan = _Plan(config, env, settings, entries, ledger, key, previous.cards, now=now)
    files, wanted = plan.files, plan.wanted
    if old == wanted and all(os.path.isfile(f"{out}/{p}") for p in wanted):
        return BuildReport(out, len(entries), len(files), 0, len(files), changed=False)

    tmp = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
    tmp.mkdir(parents=True)
    rendered = reused = 0
    helper: _Helper | None = None
    try:
        # Plain strings, not Path objects: this loop runs once per file of the site.
        tmp_dir, out_dir = str(tmp), str(out)
        for parent in sorted({f.path.rpartition("/")[0] for f in files} - {""}):
            os.makedirs(f"{tmp_dir}/{parent}", exist_ok=True)
        todo = [f for f in files if old.get(f.path) != wanted[f.path]]
        # Many message pages (a first build): a second process renders part of them.
        pages = [f for f in todo if plan.is_message_page(f.path)]
        theirs = pages[len(pages) * _KEEP // 100 :] if len(pages) >= _SHARE_FROM else []
        if theirs and _cpus() > 1:
            plan.will_render(f.path for f in theirs)
            plan.read(f.path for f in theirs)  # the helper reads no ledger (a fork's connection)
            helper = _Helper.start(tmp_dir, theirs)
        skip = {f.path for f in theirs} if helper is not None else set()
        plan.will_render(f.path for f in todo if f.path not in skip)
        for f in files:
            if f.path in skip:
                continue
            dest = f"{tmp_dir}/{f.path}"
            if old.get(f.path) == wanted[f.path] and _link(f"{out_dir}/{f.path}", dest):
                reused += 1
                continue
            _write(dest, f.produce())
            rendered += 1
        manifest = {"version": 3, "files": dict(sorted(wanted.items())), "cards": plan.cards(),
                    "messages_key": messages_key, "messages": dict(sorted(table.items()))}
        # Without indent: json's C encoder (the manifest holds every message's list item).
        _write(f"{tmp_dir}/{MANIFEST}",
               (json.dumps(manifest, ensure_ascii=False) + "\n").encode("utf-8"))
        if helper is not None:
            helper.wait()
            rendered += len(skip)
            helper = None
        put_in_place(tmp, out)
    except BaseException:
        if helper is not None:
            helper.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuildReport(out, len(entries), len(files), rendered, reused, changed=True)


#: From this many message pages to render, a second process (`fork`) renders part of them.
_SHARE_FROM = 1000
#: The share (%) of those message pages the build renders itself (it also has the index pages,
#: the feeds and the media to make).
_KEEP = 20


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _Helper:
    """A forked process that renders and writes some of the files into the build's folder.

    It dies with the build (PR_SET_PDEATHSIG) and holds nothing but the folder: a build killed
    midway leaves only that folder, which the next build removes.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid

    @classmethod
    def start(cls, tmp_dir: str, files: list[_File]) -> _Helper | None:
        if not hasattr(os, "fork"):
            return None
        pid = os.fork()
        if pid:
            return cls(pid)
        code = 1
        try:
            _die_with_parent()
            for f in files:
                _write(f"{tmp_dir}/{f.path}", f.produce())
            code = 0
        except BaseException:  # noqa: BLE001 - reported by the parent, which fails the build
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)

    def wait(self) -> None:
        _pid, status = os.waitpid(self.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"the process rendering message pages failed ({status})")

    def stop(self) -> None:
        import signal

        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the build was killed before the line above
        os._exit(1)


def _write(path: str, data: bytes) -> None:
    """A new file (no fsync: the folder is swapped in whole, and a crash keeps the old one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _link(source: str, dest: str) -> bool:
    try:
        os.link(source, dest)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class _Manifest:
    """What the previous build left in its manifest (all empty when it is missing or unreadable)."""

    #: Every file of the site: its hash.
    files: dict[str, str]
    #: Each message's item of the index, by its key (`_Plan.cards`).
    cards: dict[str, str]
    #: The build key the messages below were planned under.
    messages_key: str | None
    #: Per draft on the site: [ledger digest, `_Entry.summary()`].
    messages: dict[str, list[Any]]


def _read_manifest(out: Path) -> _Manifest:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
        cards = data.get("cards") or {}
        messages = data.get("messages") or {}
        messages_key = data.get("messages_key")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return _Manifest({}, {}, None, {})
    if not isinstance(files, dict):
        return _Manifest({}, {}, None, {})
    if not isinstance(cards, dict) or not all(isinstance(v, str) for v in cards.values()):
        cards = {}
    if not isinstance(messages, dict) or not all(
            _Entry.valid(v) for v in messages.values()):  # hand-edited: every text is read
        messages, messages_key = {}, None
    return _Manifest({str(k): str(v) for k, v in files.items()}, cards,
                     messages_key if isinstance(messages_key, str) else None, messages)


@dataclass
class _Entry:
    """A message as the plan sees it: enough to place it; `message` itself (its texts) is read
    from the ledger only when a file shows it (`_Plan.read`)."""

    draft_id: str
    #: A digest of every field of the message: its page's hash is made from it.
    key: str
    path: str
    #: When it was first published (seconds since the epoch): the index's order.
    published: float
    #: An emergency: until when it stays on top of the index (seconds), else None.
    until: float | None
    image: tuple[str, str] | None
    message: SiteMessage | None = None

    @classmethod
    def of(cls, m: SiteMessage, tz: Any) -> _Entry:
        until = m.in_force_until()
        return cls(
            m.draft_id, hashlib.sha256(repr(vars(m)).encode("utf-8")).hexdigest(),
            _page_path(m, tz), m.published_at.timestamp(),
            until.timestamp() if until is not None else None,
            (m.image_sha256, m.image_type or "") if m.image_sha256 else None, m)

    @classmethod
    def kept(cls, draft_id: str, summary: list[Any]) -> _Entry:
        key, path, published, until, image_sha256, image_type = summary
        return cls(draft_id, key, path, published, until,
                   (image_sha256, image_type) if image_sha256 else None)

    def summary(self) -> list[Any]:
        sha256, kind = self.image or (None, None)
        return [self.key, self.path, self.published, self.until, sha256, kind]

    @staticmethod
    def valid(value: Any) -> bool:
        """A manifest's [digest, summary] for a draft, as `_entries` wrote it."""
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)):
            return False
        summary = value[1]
        return (isinstance(summary, list) and len(summary) == 6
                and all(isinstance(v, str) for v in summary[:2])
                and isinstance(summary[2], (int, float))
                and (summary[3] is None or isinstance(summary[3], (int, float)))
                and all(v is None or isinstance(v, str) for v in summary[4:]))


def _entries(ledger: Ledger | None, tz: Any, kept: dict[str, list[Any]]
             ) -> tuple[list[_Entry], dict[str, list[Any]]]:
    """Every message on the site, newest first, and the manifest's table of them.

    `kept` is the previous build's table: a draft whose ledger digest is the same there keeps
    its entry, and its texts are not read; the others are read from the ledger.
    """
    if ledger is None:
        return [], {}
    digests = fingerprints(ledger)
    stale = {d for d, digest in digests.items() if d not in kept or kept[d][0] != digest}
    fresh = ({m.draft_id: m for m in current_messages(ledger, stale if kept else None)}
             if stale else {})
    entries: list[_Entry] = []
    table: dict[str, list[Any]] = {}
    for draft_id, digest in digests.items():
        if draft_id in fresh:
            entry = _Entry.of(fresh[draft_id], tz)
        elif draft_id in stale:
            # Every publication withdrawn or waiting to be pasted: not on the site, nor named in
            # its manifest (which is published with it); read again at each build.
            continue
        else:
            entry = _Entry.kept(draft_id, kept[draft_id][1])
        table[draft_id] = [digest, entry.summary()]
        entries.append(entry)
    entries.sort(key=lambda e: e.draft_id)
    entries.sort(key=lambda e: e.published, reverse=True)
    return entries, table


# -- settings, environment -----------------------------------------------------------------------


def _settings(config: Config) -> dict[str, Any]:
    from comunicast.poster.qr import WHITE, contrast
    from comunicast.poster.texts import poster_texts

    color = config.organization.color
    on_brand = "#ffffff" if contrast(color, WHITE) >= 4.5 else "#1a1a1a"
    link = color if contrast(color, WHITE) >= 4.5 else "#0b4f8a"
    base = config.site.base_url or ""
    logo = config.resolve_path(config.organization.logo) if config.organization.logo else None
    logo_digest = None
    if logo is not None:
        try:
            logo_digest = hashlib.sha256(logo.read_bytes()).hexdigest()
        except OSError:
            raise config.error(
                _("organization.logo {path} cannot be read").format(path=logo),
                "organization", "logo",
            ) from None
    from comunicast.i18n import current_language

    texts = poster_texts(config, config.channel.invite_url)
    return {
        "language": current_language(),
        "title": config.site.title or config.organization.name,
        "organization": config.organization.name,
        "website": config.organization.website,
        "base_url": base if base.endswith("/") else base + "/",
        "color": color,
        "on_brand": on_brand,
        "link": link,
        "logo": f"logo{logo.suffix.lower()}" if logo is not None else None,
        "logo_path": str(logo) if logo is not None else None,
        "logo_sha256": logo_digest,
        "channel": config.channel_name,
        "invite_url": config.channel.invite_url,
        "qr_color": config.poster.qr_color,
        "poster_title": texts.title,
        "steps": list(texts.steps),
        "privacy": texts.privacy,
        "timezone": config.timezone,
    }


def _build_key(settings: dict[str, Any]) -> str:
    digest = hashlib.sha256(f"comunicast {__version__}\0".encode())
    for path in sorted(TEMPLATES.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    # The page texts come from the catalog: another translation is another site.
    digest.update(_("Archive of messages").encode())
    return digest.hexdigest()


def _messages_key(build_key: str) -> str | None:
    """What the manifest's table of messages holds for: the build key, and the code that turns
    ledger rows into messages and entries (a change to it reads every text again). None when
    that code cannot be read (then every build reads every text)."""
    from comunicast import ledger_archive
    from comunicast.site import archive

    digest = hashlib.sha256(build_key.encode())
    try:
        for module in (archive, ledger_archive):
            digest.update(Path(module.__file__ or "").read_bytes())
        digest.update(Path(__file__).read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


class _LazyEnvironment:
    """Jinja2 is imported only when a file must be rendered (not for a site up to date)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._env: Environment | None = None

    def get_template(self, name: str) -> Any:
        if self._env is None:
            self._env = _environment(self.config)
        return self._env.get_template(name)


def _environment(config: Config) -> Environment:
    import jinja2

    from comunicast.i18n import ngettext

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        bytecode_cache=_bytecode_cache(),
    )
    env.globals.update(_=_, ngettext=ngettext)
    return env


def _bytecode_cache() -> Any:
    """Jinja2's cache of compiled templates (its default: a private folder in the temporary
    directory, checked against each template's source), or None where it cannot be kept.
    Compiling the templates again at every build costs more than a small rebuild renders."""
    import jinja2

    class Cache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(Exception):  # unreadable or stale: compiled again
                super().load_bytecode(bucket)

        def dump_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError):  # not kept: compiled again next time
                super().dump_bytecode(bucket)

    try:
        return Cache()
    except (OSError, RuntimeError):
        return None


# -- files ------------------------------------------------------------------------------------

#: Between the pages (or list items) one template call renders: escaped text never holds "<".
_SEP = "<\x00>"
#: Stands for the way back to the site's root in a list item rendered once for every page.
_ROOT = "<\x00root>"
#: Message pages rendered by one template call.
_BATCH = 200


class _Plan:
    """Every file of the site with its hash, and how to make it.

    Each file's hash stands for the data it is made from (a digest of a message's repr: every
    field, text included), so nothing is rendered, turned into HTML or read from the ledger for
    a file that has not changed. What must be rendered is rendered in few template calls:
    message pages in batches, and each message's item of the index once (kept in the manifest,
    `cards`), so an index page is a join of items it already has.
    """

    def __init__(self, config: Config, env: _LazyEnvironment, settings: dict[str, Any],
                 entries: list[_Entry], ledger: Ledger | None, key: str,
                 old_cards: dict[str, str], *, now: datetime) -> None:
        from comunicast.i18n import current_language

        _labels.clear()  # the language may have changed since the last build in this process
        self.env, self.settings, self.entries, self.key = env, settings, entries, key
        self.ledger = ledger
        self.tz, self.lang, self.base = config.tz, current_language(), settings["base_url"]
        self.old_cards = old_cards
        self.files: list[_File] = []
        self.wanted: dict[str, str] = {}
        self._modules: dict[str, Any] = {}
        self._parts: dict[tuple[str, str], dict[str, Any]] = {}
        self._ahead: dict[int, bytes] = {}  # message pages rendered with an earlier one's batch
        self._pending: list[int] = []
        self._position: dict[int, int] = {}
        self._cards: dict[str, str] | None = None

        self.paths = paths = [e.path for e in entries]
        keys = [e.key for e in entries]
        self._page_of = {path: i for i, path in enumerate(paths)}
        #: A message's item of the index is keyed like its page (the message, the build key).
        self.card_keys = [self.add(path, "message.html", k, partial(self._message_page, i))
                          for i, (path, k) in enumerate(zip(paths, keys, strict=True))]

        moment = now.timestamp()
        force = [e.until is not None and e.until > moment for e in entries]
        in_force = [i for i, f in enumerate(force) if f]
        listed = [i for i, f in enumerate(force) if not f]
        pages = max(1, -(-len(listed) // PER_PAGE))
        for number in range(1, pages + 1):
            chunk = listed[(number - 1) * PER_PAGE : number * PER_PAGE]
            top = in_force if number == 1 else []
            path = "index.html" if number == 1 else f"page/{number}.html"
            page_key = "\0".join([f"{number}/{pages}/{len(entries)}", *(keys[i] for i in top),
                                   "", *(keys[i] for i in chunk)])
            self.add(path, "index.html", page_key,
                     partial(self._index_page, path, chunk, top, number, pages))

        # The code depends only on the settings, which the build key covers.
        self.add("iscriviti.html", "iscriviti.html", "",
                 partial(self._render, "iscriviti.html", "iscriviti.html",
                         lambda: {"qr": _qr_code(settings)}))
        newest = range(min(FEED_SIZE, len(entries)))
        self._read(newest)
        feed = [_entry(self._view(i), self.base) for i in newest]
        updated = None
        for i in newest:
            m = self._message(i)
            updated = max(updated, m.updated_at) if updated else m.updated_at
        feed_context = {
            "entries": feed,
            "updated_rfc822": format_datetime(updated, usegmt=True) if updated else None,
            "updated_iso": _iso_utc(updated) if updated else "1970-01-01T00:00:00Z",
        }
        feed_key = _digest("feed", feed_context)
        for name in ("feed.xml", "atom.xml"):
            self.add(name, name, feed_key,
                     partial(self._render, name, name, lambda: feed_context))

        self.add_file("style.css", "", lambda: env.get_template("style.css").render(
            site=settings).encode("utf-8"))
        fonts = Path(__file__).parent.parent / "poster" / "fonts"
        for name in ("TitilliumWeb-Regular.ttf", "TitilliumWeb-SemiBold.ttf",
                     "TitilliumWeb-Bold.ttf", "OFL.txt"):
            self.add_file(f"fonts/{name}", __version__, (fonts / name).read_bytes)
        if settings["logo"]:
            logo_path = Path(settings["logo_path"])
            self.add_file(settings["logo"], settings["logo_sha256"], logo_path.read_bytes)
        for sha, suffix in sorted({(e.image[0], _IMAGE_SUFFIX.get(e.image[1], ".bin"))
                                   for e in entries if e.image}):
            assert ledger is not None
            self.add_file(f"media/{sha[:32]}{suffix}", sha, _blob(ledger, sha))

    # -- the list of files

    def add_file(self, path: str, digest: str, produce: Callable[[], bytes]) -> str:
        """A file whose bytes depend only on `digest` (and the build key); its hash."""
        wanted = hashlib.sha256(f"{self.key}\0{path}\0{digest}".encode()).hexdigest()
        self.files.append(_File(path, digest, produce))
        self.wanted[path] = wanted
        return wanted

    def add(self, path: str, template: str, key: str, produce: Callable[[], bytes]) -> str:
        """A page made with `template`; `key` stands for the data it shows."""
        return self.add_file(path, f"{template}\0{key}", produce)

    def is_message_page(self, path: str) -> bool:
        return path in self._page_of

    def will_render(self, paths: Iterable[str]) -> None:
        """The files about to be made, in order: message pages among them go in batches."""
        self._pending = [self._page_of[p] for p in paths if p in self._page_of]
        self._position = {i: n for n, i in enumerate(self._pending)}

    def read(self, paths: Iterable[str]) -> None:
        """Read now, in few queries, the messages of these message pages (others are skipped)."""
        self._read([self._page_of[p] for p in paths if p in self._page_of])

    def _read(self, indexes: Iterable[int]) -> None:
        entries = self.entries
        missing = {entries[i].draft_id: i for i in indexes if entries[i].message is None}
        if not missing:
            return
        assert self.ledger is not None  # entries come from it
        for m in current_messages(self.ledger, list(missing)):
            entries[missing.pop(m.draft_id)].message = m
        if missing:  # withdrawn between the two reads (another host publishing): no page
            raise ComunicastError(
                _("the archive changed while the site was being built ({ids}); build it "
                  "again").format(ids=", ".join(sorted(missing))),
                hint=_("run `comunicast site` again: the previous site is still in place"),
            )

    def _message(self, i: int) -> SiteMessage:
        m = self.entries[i].message
        if m is None:
            self._read([i])
            m = self.entries[i].message
            assert m is not None
        return m

    def cards(self) -> dict[str, str]:
        """Every current message's item of the index, for the manifest (and the next build)."""
        return dict(sorted(self._all_cards().items()))

    # -- rendering

    def _shared(self, root: str, path: str) -> dict[str, Any]:
        """The header, navigation and footer of a page `root` deep, rendered once."""
        current = path if path in ("index.html", "iscriviti.html") else ""
        if (root, current) not in self._parts:
            if "chrome" not in self._modules:
                self._modules["chrome"] = self.env.get_template("chrome.html").make_module(
                    {"site": self.settings})
            module = self._modules["chrome"]
            self._parts[root, current] = {
                "head_start": module.head_start(), "head_end": module.head_end(root),
                "nav": module.nav(root, current), "foot": module.foot()}
        return self._parts[root, current]

    def _render(self, path: str, template: str, make: Callable[[], dict[str, Any]]) -> bytes:
        root = "../" * path.count("/")
        html: str = self.env.get_template(template).render(
            site=self.settings, **make(), root=root, path=path)
        return html.encode("utf-8")

    def _message_page(self, i: int) -> bytes:
        page = self._ahead.pop(i, None)
        if page is not None:
            return page
        at = self._position.get(i)
        batch = self._pending[at : at + _BATCH] if at is not None else [i]
        self._read(batch)
        pages = self._render_many("message.html", "messages", [self._view(j) for j in batch],
                                  root="../../", parts=self._shared("../../", ""))
        self._ahead.update(zip(batch, (p.encode("utf-8") for p in pages), strict=True))
        return self._ahead.pop(i)

    def _render_many(self, template: str, name: str, values: list[Any],
                     **context: Any) -> list[str]:
        """One template call for many pages (or items), each followed by `sep`."""
        from markupsafe import Markup

        html: str = self.env.get_template(template).render(
            site=self.settings, sep=Markup(_SEP), **{name: values}, **context)
        parts = html.split(_SEP)
        assert len(parts) == len(values) + 1 and not parts[-1].strip(), template
        return parts[:-1]

    def _all_cards(self) -> dict[str, str]:
        if self._cards is None:
            from markupsafe import Markup

            keys, old = self.card_keys, self.old_cards
            missing = [i for i, k in enumerate(keys) if k not in old]
            cards = {k: old[k] for k in keys if k in old}
            if missing:
                tz, lang, paths = self.tz, self.lang, self.paths
                self._read(missing)
                items = [_item(self._message(i), paths[i], tz, lang) for i in missing]
                made = self._render_many("cards.html", "items", items, root=Markup(_ROOT))
                cards.update(zip((keys[i] for i in missing), made, strict=True))
            self._cards = cards
        return self._cards

    def _index_page(self, path: str, chunk: list[int], top: list[int], number: int,
                    pages: int) -> bytes:
        from markupsafe import Markup

        cards, keys = self._all_cards(), self.card_keys
        root = "../" * path.count("/")

        def joined(indexes: list[int]) -> Markup:
            return Markup("".join(cards[keys[i]] for i in indexes).replace(_ROOT, root))

        html: str = self.env.get_template("index.html").render(
            site=self.settings, root=root, path=path, parts=self._shared(root, path),
            items_html=joined(chunk), emergencies_html=joined(top), number=number,
            pages=pages, total=len(self.entries))
        return html.encode("utf-8")

    def _view(self, i: int) -> dict[str, Any]:
        return _view(self._message(i), self.tz, self.lang, self.base, self.paths[i])


def _blob(ledger: Ledger, sha: str) -> Callable[[], bytes]:
    def produce() -> bytes:
        return ledger.blob(sha) or b""

    return produce


def _digest(template: str, context: dict[str, Any]) -> str:
    raw = json.dumps([template, context], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _qr_code(settings: dict[str, Any]) -> dict[str, str]:
    from comunicast.poster.qr import make_symbol, verify_image
    from comunicast.poster.svg import rasterize, to_svg

    svg = to_svg(make_symbol(settings["invite_url"]), settings["qr_color"])
    # Like every code comunicast writes: read back with an independent decoder first.
    verify_image(rasterize(svg), settings["invite_url"], what="iscriviti.html")
    svg = re.sub(r'\s(width|height)="[^"]*mm"', "", svg, count=2)
    svg = svg.replace("<svg ", '<svg role="img" aria-labelledby="qr-title" ', 1)
    svg = svg.replace("<title>", '<title id="qr-title">', 1)
    from markupsafe import Markup

    return {"svg_html": Markup(svg)}


# -- views ------------------------------------------------------------------------------------


def kind_label(kind: str) -> str:
    """The kind as a reader sees it."""
    labels = {
        "notizia": _("News"), "servizio": _("Service"), "scadenza": _("Deadline"),
        "evento": _("Event"), "emergenza": _("Emergency"), "avviso": _("Notice"),
    }
    return labels.get(kind, kind)


class _Labels(dict[str, str]):
    """`kind_label` remembered for one build."""

    def __missing__(self, kind: str) -> str:
        self[kind] = label = kind_label(kind)
        return label


_labels = _Labels()


def _page_path(m: SiteMessage, tz: Any) -> str:
    """`<yyyy>/<mm>/<draft_id>.html`, by the month it was first published."""
    local = m.published_at.astimezone(tz)
    return f"{local.year:04d}/{local.month:02d}/{m.draft_id}.html"


def _view(m: SiteMessage, tz: Any, lang: str, base: str, path: str | None = None
          ) -> dict[str, Any]:
    """A message as its page shows it; `text_html` values are safe HTML (`markup.to_html`)."""
    from markupsafe import Markup

    local = m.published_at.astimezone(tz)
    path = path or _page_path(m, tz)
    image = None
    if m.image_sha256:
        suffix = _IMAGE_SUFFIX.get(m.image_type or "", ".bin")
        image = {"src": f"media/{m.image_sha256[:32]}{suffix}", "alt": m.image_alt or ""}
    body = without_title(m.text, m.title, markup=m.markup) if m.text is not None else None
    details = []
    if m.starts_at:
        details.append((_("When"), _when(m.starts_at, m.ends_at, tz, lang)))
    if m.where:
        details.append((_("Where"), m.where))
    if m.deadline:
        details.append((_("Deadline"), _human(m.deadline, tz, lang)))
    return {
        "id": m.draft_id,
        "path": path,
        "url": base + path,
        "title": m.title,
        "kind": m.kind,
        "kind_label": _labels[m.kind],
        "date_iso": _iso_utc(m.published_at),
        "date": format_when(local, lang),
        "updated_iso": _iso_utc(m.updated_at),
        "updated": format_when(m.updated_at.astimezone(tz), lang)
        if m.updated_at != m.published_at else None,
        "text_html": Markup(to_html(body, markup=m.markup)) if body is not None else None,
        "image": image,
        "details": details,
        "earlier": [
            {"date": format_when(e.at.astimezone(tz), lang), "date_iso": _iso_utc(e.at),
             "text_html": Markup(to_html(without_title(e.text, m.title, markup=e.markup),
                                         markup=e.markup))}
            for e in m.earlier
        ],
    }


def _item(m: SiteMessage, path: str, tz: Any, lang: str) -> dict[str, Any]:
    """A message as the index lists it."""
    body = without_title(m.text, m.title, markup=m.markup) if m.text is not None else None
    return {
        "path": path, "title": m.title, "kind": m.kind, "kind_label": _labels[m.kind],
        "date": format_when(m.published_at.astimezone(tz), lang),
        "date_iso": _iso_utc(m.published_at),
        "excerpt": _excerpt(body) if body is not None else "",
    }


def _entry(view: dict[str, Any], base: str) -> dict[str, Any]:
    content = str(view["text_html"] or "")  # escaped again by the feed: a plain string
    if view["image"]:
        src = escape(base + view["image"]["src"], quote=True)
        alt = escape(view["image"]["alt"], quote=True)
        content = f'<p><img src="{src}" alt="{alt}"></p>\n' + content
    return {
        "id": view["url"], "url": view["url"], "title": view["title"],
        "kind_label": view["kind_label"], "content": content,
        "date_rfc822": format_datetime(datetime.fromisoformat(view["date_iso"]), usegmt=True),
        "date_iso": view["date_iso"], "updated_iso": view["updated_iso"],
    }


def _excerpt(text: str, limit: int = 220) -> str:
    lines = (_LIST_RE.sub("", line) for line in text.replace(WORD_JOINER, "").split("\n"))
    flat = " ".join(_MARKERS_RE.sub("", " ".join(lines)).split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + " …"


def _iso_utc(value: datetime) -> str:
    u = value.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"

def format_when(value: datetime, lang: str, *, time: bool = True) -> str:
    """`1 dicembre 2026, 08:00` (Italian) or `1 December 2026, 08:00`: the interface's dates.

    `lang` is the language the catalog was set to (`comunicast.i18n`), which names the months.
    """
    from comunicast.i18n import format_date, format_datetime

    return format_datetime(value) if time else format_date(value)


def _human(value: str, tz: Any, lang: str) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) <= 10:  # a bare date
        return format_when(parsed, lang, time=False)
    return format_when(parsed.astimezone(tz), lang)


def _when(starts: str, ends: str | None, tz: Any, lang: str) -> str:
    start = _human(starts, tz, lang)
    if not ends:
        return start
    return _("{start} to {end}").format(start=start, end=_human(ends, tz, lang))
