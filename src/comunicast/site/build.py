"""`comunicast site`: the static archive site, built from the ledger (SPEC §9).

Each output file is described by the data it shows (a JSON-ready context) before anything is
rendered; its hash, together with the build key (comunicast's version, the templates, the site
settings), is kept in a manifest in the site folder. A rebuild renders only the files whose hash
changed and hard-links the others from the previous site, so a new publication re-renders its
own page, the index pages and the feeds. A rebuild where nothing changed writes nothing at all.
Every build goes into a temporary folder beside the target and is swapped in at once
(`swap.put_in_place`): a build killed midway leaves the previous site as it was.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comunicast import __version__
from comunicast.errors import ConfigError
from comunicast.i18n import _
from comunicast.site.archive import SiteMessage, current_messages
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
    from comunicast.ledger import Ledger
    from comunicast.site.archive import backfill

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
    messages: list[SiteMessage] = []
    blobs: Ledger | None = None
    if config.ledger_path.is_file():
        blobs = Ledger.open(config.ledger_path)
    try:
        if blobs is not None:
            backfill(blobs, config)
            messages = current_messages(blobs)
        with _build_lock(out):
            recover(out)
            return _build(config, out, messages, blobs, now=now)
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


def _build(config: Config, out: Path, messages: list[SiteMessage], ledger: Ledger | None, *,
           now: datetime) -> BuildReport:
    env = _LazyEnvironment(config)
    settings = _settings(config)
    key = _build_key(settings)
    files = _files(config, env, settings, messages, ledger, now=now)
    wanted = {f.path: hashlib.sha256(f"{key}\0{f.path}\0{f.digest}".encode()).hexdigest()
              for f in files}
    old = _read_manifest(out)
    if old == wanted and all(os.path.isfile(f"{out}/{p}") for p in wanted):
        return BuildReport(out, len(messages), len(files), 0, len(files), changed=False)

    tmp = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
    tmp.mkdir(parents=True)
    rendered = reused = 0
    try:
        made: set[str] = set()
        # Plain strings, not Path objects: this loop runs once per file of the site.
        tmp_dir, out_dir = str(tmp), str(out)
        for f in files:
            dest = f"{tmp_dir}/{f.path}"
            parent = f.path.rpartition("/")[0]
            if parent and parent not in made:
                os.makedirs(f"{tmp_dir}/{parent}", exist_ok=True)
                made.add(parent)
            if old.get(f.path) == wanted[f.path] and _link(f"{out_dir}/{f.path}", dest):
                reused += 1
                continue
            with open(dest, "wb") as handle:
                handle.write(f.produce())
            rendered += 1
        manifest = {"version": 1, "files": dict(sorted(wanted.items()))}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=0) + "\n", encoding="utf-8")
        put_in_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuildReport(out, len(messages), len(files), rendered, reused, changed=True)


def _link(source: str, dest: str) -> bool:
    try:
        os.link(source, dest)
    except OSError:
        return False
    return True


def _read_manifest(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


# -- settings, environment -----------------------------------------------------------------------


def _settings(config: Config) -> dict[str, Any]:
    from comunicast.poster.build import poster_texts
    from comunicast.poster.qr import WHITE, contrast

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
    )
    env.globals.update(_=_, ngettext=ngettext)
    return env


# -- files ------------------------------------------------------------------------------------


def _files(config: Config, env: _LazyEnvironment, settings: dict[str, Any],
           messages: list[SiteMessage], ledger: Ledger | None, *, now: datetime) -> list[_File]:

    from comunicast.i18n import current_language

    tz = config.tz
    lang = current_language()
    base = settings["base_url"]
    _labels.clear()  # the language may have changed since the last build in this process
    files: list[_File] = []

    def page(path: str, template: str, key: str,
             make: Callable[[], dict[str, Any]] = dict) -> None:
        """A page whose context `make` builds only if it is rendered; `key` stands for that
        context in the page's hash (the data it is made from)."""
        root = "../" * path.count("/")
        digest = hashlib.sha256(f"{template}\0{path}\0{key}".encode()).hexdigest()

        def produce() -> bytes:
            from markupsafe import Markup

            context = {**make(), "root": root, "path": path}
            html: str = env.get_template(template).render(
                site=settings, **_marked(context, Markup))
            return html.encode("utf-8")

        files.append(_File(path, digest, produce))

    # Each message's data (its repr: every field, text included) stands for what is made from
    # it, so nothing is rendered, or even turned into HTML, for a page that has not changed.
    keys = [repr(m) for m in messages]
    paths = [_page_path(m, tz) for m in messages]
    parts: dict[str, dict[str, Any]] = {}

    def shared(root: str) -> dict[str, Any]:
        """The header, navigation and footer of a message page `root` deep, rendered once."""
        if root not in parts:
            module = env.get_template("chrome.html").make_module({"site": settings})
            parts[root] = {"head_start": module.head_start(), "head_end": module.head_end(root),
                           "nav": module.nav(root, ""), "foot": module.foot()}
        return parts[root]

    def message_context(m: SiteMessage) -> Callable[[], dict[str, Any]]:
        return lambda: {"m": _view(m, tz, lang, base), "parts": shared("../../")}

    for m, path, key in zip(messages, paths, keys, strict=True):
        page(path, "message.html", key, message_context(m))

    force = [m.in_force(now) for m in messages]
    in_force = [i for i, f in enumerate(force) if f]
    listed = [i for i, f in enumerate(force) if not f]
    pages = max(1, -(-len(listed) // PER_PAGE))

    def items(indexes: list[int]) -> list[dict[str, Any]]:
        return [_item(messages[i], paths[i], tz, lang) for i in indexes]

    def index_context(chunk: list[int], top: list[int], number: int
                      ) -> Callable[[], dict[str, Any]]:
        return lambda: {"items": items(chunk), "emergencies": items(top), "number": number,
                        "pages": pages, "total": len(messages)}

    for number in range(1, pages + 1):
        chunk = listed[(number - 1) * PER_PAGE : number * PER_PAGE]
        top = in_force if number == 1 else []
        path = "index.html" if number == 1 else f"page/{number}.html"
        key = "\0".join([f"{number}/{pages}/{len(messages)}", *(keys[i] for i in top), "",
                          *(keys[i] for i in chunk)])
        page(path, "index.html", key, index_context(chunk, top, number))
    views = [_view(m, tz, lang, base) for m in messages[:FEED_SIZE]]

    # The code depends only on the settings, which the build key covers.
    page("iscriviti.html", "iscriviti.html", "", lambda: {"qr": _qr_code(settings)})
    feed = [_entry(v, base) for v in views[:FEED_SIZE]]
    updated = messages[0].updated_at if messages else None
    for m in messages[:FEED_SIZE]:
        updated = max(updated, m.updated_at) if updated else m.updated_at
    feed_context = {
        "entries": feed,
        "updated_rfc822": format_datetime(updated, usegmt=True) if updated else None,
        "updated_iso": _iso_utc(updated) if updated else "1970-01-01T00:00:00Z",
    }
    feed_key = _digest("feed", feed_context)
    page("feed.xml", "feed.xml", feed_key, lambda: feed_context)
    page("atom.xml", "atom.xml", feed_key, lambda: feed_context)

    css = env.get_template("style.css")
    files.append(_File("style.css", "",
                       lambda: css.render(site=settings).encode("utf-8")))
    fonts = Path(__file__).parent.parent / "poster" / "fonts"
    for name in ("TitilliumWeb-Regular.ttf", "TitilliumWeb-SemiBold.ttf",
                 "TitilliumWeb-Bold.ttf", "OFL.txt"):
        files.append(_File(f"fonts/{name}", __version__, (fonts / name).read_bytes))
    if settings["logo"]:
        logo_path = Path(settings["logo_path"])
        files.append(_File(settings["logo"], settings["logo_sha256"], logo_path.read_bytes))
    for sha, suffix in sorted({(m.image_sha256, _IMAGE_SUFFIX.get(m.image_type or "", ".bin"))
                               for m in messages if m.image_sha256}):
        assert ledger is not None
        files.append(_File(f"media/{sha[:32]}{suffix}", sha, _blob(ledger, sha)))
    return files


def _blob(ledger: Ledger, sha: str) -> Callable[[], bytes]:
    def produce() -> bytes:
        return ledger.blob(sha) or b""

    return produce


def _digest(template: str, context: dict[str, Any]) -> str:
    raw = json.dumps([template, context], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _marked(context: dict[str, Any], markup: Any) -> dict[str, Any]:
    """Wrap the `*_html` values (built by `markup.to_html`, already escaped) as safe."""

    def wrap(value: Any, key: str = "") -> Any:
        if key == "parts":  # already rendered by the templates: safe as they are
            return value
        if isinstance(value, dict):
            return {k: wrap(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [wrap(v) for v in value]
        if isinstance(value, str) and key.endswith("_html"):
            return markup(value)
        return value

    return {k: wrap(v, k) for k, v in context.items()}


def _qr_code(settings: dict[str, Any]) -> dict[str, str]:
    from comunicast.poster.qr import make_symbol, verify_image
    from comunicast.poster.svg import rasterize, to_svg

    svg = to_svg(make_symbol(settings["invite_url"]), settings["qr_color"])
    # Like every code comunicast writes: read back with an independent decoder first.
    verify_image(rasterize(svg), settings["invite_url"], what="iscriviti.html")
    svg = re.sub(r'\s(width|height)="[^"]*mm"', "", svg, count=2)
    svg = svg.replace("<svg ", '<svg role="img" aria-labelledby="qr-title" ', 1)
    svg = svg.replace("<title>", '<title id="qr-title">', 1)
    return {"svg_html": svg}


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
    return f"{local:%Y}/{local:%m}/{m.draft_id}.html"


def _view(m: SiteMessage, tz: Any, lang: str, base: str) -> dict[str, Any]:
    local = m.published_at.astimezone(tz)
    path = _page_path(m, tz)
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
        "kind_label": kind_label(m.kind),
        "date_iso": _iso_utc(m.published_at),
        "date": format_when(local, lang),
        "updated_iso": _iso_utc(m.updated_at),
        "updated": format_when(m.updated_at.astimezone(tz), lang)
        if m.updated_at != m.published_at else None,
        "text_html": to_html(body, markup=m.markup) if body is not None else None,
        "image": image,
        "details": details,
        "earlier": [
            {"date": format_when(e.at.astimezone(tz), lang), "date_iso": _iso_utc(e.at),
             "text_html": to_html(without_title(e.text, m.title, markup=e.markup),
                                  markup=e.markup)}
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
    content = view["text_html"] or ""
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
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

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
