"""`comunicast site`: the archive built from a real ledger made by real `publish` runs (SPEC §9)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest
from publish_support import draft, run
from site_support import BASE_URL, COUNT, SiteProject, config, copy_project, make_site_project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SiteProject:
    project = make_site_project(tmp_path_factory.mktemp("site") / "project")
    done = run(project.root, "site")
    assert done.returncode == 0, done.stderr
    return project


@pytest.fixture
def own(built: SiteProject, tmp_path: Path) -> SiteProject:
    """A copy of the built project this test may change."""
    root = copy_project(built.root, tmp_path / "copy")
    return SiteProject(root, built.image_bytes, built.edited_sent_line)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cards: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "a" and self.tags[-2:-1] and self.tags[-2][0] == "h3":
            self.cards.append(dict(attrs)["href"] or "")


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _sent_order(root: Path) -> list[str]:
    conn = sqlite3.connect(root / ".comunicast" / "ledger.sqlite3")
    try:
        rows = conn.execute(
            "SELECT draft_id FROM publications WHERE state = 'sent' ORDER BY sent_at DESC, draft_id"
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def test_index_lists_newest_first_twenty_per_page_with_the_emergency_on_top(
    built: SiteProject,
) -> None:
    site = built.root / "site"
    first, second = _parse(site / "index.html"), _parse(site / "page" / "2.html")
    order = [d for d in _sent_order(built.root) if d != built.emergency_id]
    ids = [Path(h).stem for h in first.cards]
    assert ids[0] == built.emergency_id  # in force: above everything else
    assert ids[1:] == order[:20]
    assert [Path(h).stem for h in second.cards] == order[20:]
    assert len(order) == COUNT - 1 and not (site / "page" / "3.html").exists()
    html = (site / "index.html").read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert 'href="page/2.html"' in html and "Emergencies in progress" in html
    assert 'href="../index.html"' in (site / "page" / "2.html").read_text(encoding="utf-8")
    assert "<script" not in html  # no JavaScript on public pages


def test_message_pages_show_the_text_as_sent_not_the_draft_of_today(built: SiteProject) -> None:
    site = built.root / "site"
    [edited] = site.glob(f"*/*/{built.edited_id}.html")
    page = edited.read_text(encoding="utf-8")
    assert built.edited_sent_line in page and "testo cambiato" not in page
    assert re.match(r"\d{4}/\d{2}/avviso-03\.html", edited.relative_to(site).as_posix())
    assert "<h1>Avviso numero 3 sul ponte</h1>" in page and "Notice" in page
    assert '<a href="https://www.comune.cremona.it/viabilita">' in page
    assert "<strong>Avviso numero 3" not in page  # the title is the heading, not repeated


def test_a_deleted_draft_keeps_its_page_image_and_alt_text(built: SiteProject) -> None:
    site = built.root / "site"
    [page] = site.glob(f"*/*/{built.deleted_id}.html")
    html = page.read_text(encoding="utf-8")
    [src] = re.findall(r'<img src="\.\./\.\./(media/[0-9a-f]+\.jpg)" alt="([^"]*)"', html)
    assert src[1] == "Mappa dei percorsi alternativi in centro"
    assert (site / src[0]).read_bytes() == built.image_bytes
    assert hashlib.sha256(built.image_bytes).hexdigest().startswith(Path(src[0]).stem)


def test_whatsapp_markup_becomes_safe_html(built: SiteProject) -> None:
    [page] = (built.root / "site").glob(f"*/*/{built.markup_id}.html")
    html = page.read_text(encoding="utf-8")
    assert "<strong>ponte</strong>" in html and "<em>chiuso</em>" in html
    assert "<s>vecchio</s>" in html and "<ul><li>via Dante</li><li>via Verdi</li></ul>" in html
    assert "<blockquote><p>Attenzione: 3 &lt; 5 &amp; 7 &gt; 2" in html
    assert 'href="https://www.comune.cremona.it/viabilita?a=1&amp;b=2"' in html


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_feeds_parse_with_complete_entries(built: SiteProject, name: str) -> None:
    feed = feedparser.parse((built.root / "site" / name).read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) == COUNT  # fewer than 50: every message
    assert feed.feed.title == "Comune di Cremona"
    for entry in feed.entries:
        assert entry.id.startswith(BASE_URL) and entry.link == entry.id
        assert entry.title and entry.published_parsed is not None
        content = entry.content[0].value if "content" in entry else entry.summary
        assert content.startswith("<p>") and len(content) > 40
    [with_image] = [e for e in feed.entries if e.link.endswith("/con-immagine.html")]
    content = with_image.content[0].value if "content" in with_image else with_image.summary
    assert f'src="{BASE_URL}media/' in content and "Mappa dei percorsi" in content


def test_the_subscribe_page_has_the_code_steps_link_and_privacy_line(built: SiteProject) -> None:
    from PIL import Image as _Image  # noqa: F401 - rasterize needs PIL

    from comunicast.poster.qr import decode
    from comunicast.poster.svg import rasterize

    html = (built.root / "site" / "iscriviti.html").read_text(encoding="utf-8")
    [svg] = re.findall(r"<svg .*?</svg>", html, re.DOTALL)
    assert decode(rasterize(svg)) == ["https://whatsapp.com/channel/0029VaTestTestTestTest00"]
    # The poster's texts (poster: in config, or its defaults in the site's language).
    assert "Scan the QR code with your phone" in html and "Tap «Follow»" in html
    assert 'href="https://whatsapp.com/channel/0029VaTestTestTestTest00"' in html
    assert "does not see the names, photos or phone numbers" in html


def test_a_rebuild_with_nothing_new_writes_nothing(own: SiteProject, tmp_path: Path) -> None:
    site = own.root / "site"
    before = _tree(site)
    inode = (site / "index.html").stat().st_ino
    done = run(own.root, "site", "--format", "json")
    assert done.returncode == 0 and json.loads(done.stdout)["changed"] is False
    assert _tree(site) == before and (site / "index.html").stat().st_ino == inode
    # A build from scratch elsewhere gives the same bytes: no timestamps, a stable order.
    fresh = run(own.root, "site", "--out", str(tmp_path / "fresh"))
    assert fresh.returncode == 0, fresh.stderr
    assert _tree(tmp_path / "fresh") == before


def test_one_new_publication_renders_only_what_changes(own: SiteProject, tmp_path: Path) -> None:
    draft(own.root, "nuovo", title="Un avviso nuovo", body="Testo nuovo del Comune di oggi.")
    assert run(own.root, "publish", "messages/nuovo.md", "--yes").returncode == 0
    done = run(own.root, "site", "--format", "json")
    report = json.loads(done.stdout)
    # Its page, the two index pages, the two feeds (and the manifest): nothing else.
    assert report["changed"] and report["rendered"] == 5, report
    assert report["messages"] == COUNT + 1
    assert _parse(own.root / "site" / "index.html").cards[1].endswith("/nuovo.html")
    fresh = run(own.root, "site", "--out", str(tmp_path / "fresh"))
    assert fresh.returncode == 0
    assert _tree(tmp_path / "fresh") == _tree(own.root / "site")



def test_rebuilds_after_edits_withdrawals_and_pastes_equal_a_build_from_scratch(
    own: SiteProject, tmp_path: Path
) -> None:
    """A rebuild reads again only the messages whose ledger rows changed: after each kind of
    change, the rebuilt site is byte for byte a site built from scratch."""
    root, site = own.root, own.root / "site"

    def rebuilt_as_fresh(step: str) -> None:
        done = run(root, "site")
        assert done.returncode == 0, done.stderr
        fresh = tmp_path / f"fresh-{step}"
        assert run(root, "site", "--out", str(fresh)).returncode == 0
        assert _tree(site) == _tree(fresh), step

    draft(root, "nuovo", title="Un avviso nuovo", body="Testo nuovo del Comune di oggi.")
    assert run(root, "publish", "messages/nuovo.md", "--yes").returncode == 0
    rebuilt_as_fresh("new")
    edited = root / "messages" / "avviso-05.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace(
        "avviso numero 5.", "avviso numero 5, orari corretti."), encoding="utf-8")
    done = run(root, "publish", "messages/avviso-05.md", "--edit", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    rebuilt_as_fresh("edit")
    assert "orari corretti" in next(site.glob("*/*/avviso-05.html")).read_text(encoding="utf-8")
    done = run(root, "withdraw", "avviso-06", "--reason", "Avviso superato")
    assert done.returncode == 0, done.stdout + done.stderr
    rebuilt_as_fresh("withdraw")
    assert not list(site.glob("*/*/avviso-06.html"))
    assert "avviso-06" not in (site / ".comunicast-site.json").read_text(encoding="utf-8")


def test_a_rebuild_reads_the_texts_of_changed_messages_and_the_feeds_only(
    own: SiteProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from comunicast.clock import now
    from comunicast.config import load_config
    from comunicast.site import build

    monkeypatch.setattr(build, "FEED_SIZE", 2)  # the feeds show the newest two
    config_ = load_config(own.root / "comunicast.yaml")
    out = tmp_path / "small"
    build.build_site(config_, out, now=now(config_.tz))
    draft(own.root, "nuovo", title="Un avviso nuovo", body="Testo nuovo del Comune di oggi.")
    assert run(own.root, "publish", "messages/nuovo.md", "--yes").returncode == 0
    read: list[list[str] | None] = []
    real = build.current_messages

    def spy(ledger: Any, drafts: Any = None) -> Any:
        read.append(sorted(drafts) if drafts is not None else None)
        return real(ledger, drafts)

    monkeypatch.setattr(build, "current_messages", spy)
    report = build.build_site(config_, out, now=now(config_.tz))
    assert report.changed and report.messages == COUNT + 1
    assert read[0] == ["nuovo"] and None not in read
    assert len({d for ids in read if ids for d in ids}) == 2  # + the feeds' other message
    monkeypatch.setattr(build, "current_messages", real)
    build.build_site(config_, tmp_path / "fresh", now=now(config_.tz))
    assert _tree(out) == _tree(tmp_path / "fresh")


def test_a_message_gone_while_the_site_is_built_stops_the_build_and_keeps_the_site(
    own: SiteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the ledger's digests and the texts they stand for, another host may withdraw a
    message: the build stops with a clear error and the previous site stays."""
    from comunicast.clock import now
    from comunicast.config import load_config
    from comunicast.errors import ComunicastError
    from comunicast.site import build

    site = own.root / "site"
    before = _tree(site)
    draft(own.root, "nuovo", title="Un avviso nuovo", body="Testo nuovo del Comune di oggi.")
    assert run(own.root, "publish", "messages/nuovo.md", "--yes").returncode == 0
    real = build.current_messages

    def withdrawn_meanwhile(ledger: Any, drafts: Any = None) -> Any:
        found = real(ledger, drafts)
        return [m for m in found if m.draft_id != own.emergency_id or drafts == ["nuovo"]]

    monkeypatch.setattr(build, "current_messages", withdrawn_meanwhile)
    config_ = load_config(own.root / "comunicast.yaml")
    with pytest.raises(ComunicastError, match=f"archive changed .*{own.emergency_id}"):
        build.build_site(config_, site, now=now(config_.tz))
    assert _tree(site) == before

def test_base_url_is_required(own: SiteProject) -> None:
    config(own.root, site={})
    done = run(own.root, "site")
    assert done.returncode == 3
    assert "site.base_url is missing" in done.stderr and "Traceback" not in done.stderr


def test_a_folder_that_is_not_a_site_is_never_replaced(own: SiteProject, tmp_path: Path) -> None:
    mine = tmp_path / "documenti"
    mine.mkdir()
    (mine / "tesi.odt").write_bytes(b"important")
    done = run(own.root, "site", "--out", str(mine))
    assert done.returncode == 3 and "not a site built by comunicast" in done.stderr
    assert [p.name for p in mine.iterdir()] == ["tesi.odt"]


def test_to_paste_publications_wait_for_a_person(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "messages").mkdir(parents=True)
    config(root, confirm=True)
    draft(root, "ponte", body="Il ponte sul Po resta chiuso dal 2 al 5 dicembre per lavori.")
    assert run(root, "publish", "messages/", "--yes").returncode == 0
    log = json.loads(run(root, "log", "--format", "json").stdout)
    assert [(r["state"], r["pasted_at"]) for r in log] == [("to-paste", None)]
    assert run(root, "site").returncode == 0
    assert not list((root / "site").glob("*/*/ponte.html"))  # not on the channel yet
    # Cron does not write it again while it waits.
    again = run(root, "publish", "--due")
    assert again.returncode == 0 and again.stdout == ""
    done = run(root, "resolve", "ponte", "--sender", "archivio", "--as", "sent")
    assert done.returncode == 0, done.stderr
    assert "marked pasted" in done.stdout
    [row] = json.loads(run(root, "log", "--format", "json").stdout)
    assert row["state"] == "sent" and row["pasted_at"] and row["resolved_as"] == "sent"
    assert run(root, "site").returncode == 0
    assert list((root / "site").glob("*/*/ponte.html"))
    desk = (root / "outbox" / "index.html").read_text(encoding="utf-8")
    assert "Marked pasted on" in desk
    assert json.loads((root / "outbox" / "ponte.archivio.json").read_text())["pasted_at"]
    # Twice is harmless.
    twice = run(root, "resolve", "ponte", "--sender", "archivio", "--as", "sent")
    assert twice.returncode == 0 and "already marked pasted" in twice.stdout


def test_not_pasted_after_all_is_written_again(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "messages").mkdir(parents=True)
    config(root, confirm=True)
    draft(root, "ponte", body="Il ponte sul Po resta chiuso dal 2 al 5 dicembre per lavori.")
    assert run(root, "publish", "messages/", "--yes").returncode == 0
    done = run(root, "resolve", "ponte", "--sender", "archivio", "--as", "failed")
    assert done.returncode == 0, done.stderr
    assert json.loads(run(root, "log", "--format", "json").stdout)[0]["state"] == "failed"
    assert run(root, "publish", "messages/", "--yes").returncode == 0
    assert json.loads(run(root, "log", "--format", "json").stdout)[0]["state"] == "to-paste"


def test_an_outbox_without_confirm_can_be_marked_pasted(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "messages").mkdir(parents=True)
    config(root)
    draft(root, "ponte", body="Il ponte sul Po resta chiuso dal 2 al 5 dicembre per lavori.")
    assert run(root, "publish", "messages/", "--yes").returncode == 0
    assert json.loads(run(root, "log", "--format", "json").stdout)[0]["state"] == "sent"
    done = run(root, "resolve", "ponte", "--sender", "archivio", "--as", "sent")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(run(root, "log", "--format", "json").stdout)
    assert row["state"] == "sent" and row["pasted_at"] and row["leaves_channel_at"]
    refused = run(root, "resolve", "ponte", "--sender", "archivio", "--as", "failed")
    assert refused.returncode == 2 and "already marked pasted" in refused.stderr


# -- atomicity ---------------------------------------------------------------------------------

_KILLABLE = """
import os, sys, time
from pathlib import Path
import comunicast.site.build as build
from comunicast.config import load_config
from comunicast.clock import now

real = build.put_in_place
where = sys.argv[2]

def held(tmp, out):
    if where == "after":
        real.__globals__["_exchange"](tmp, out) if out.exists() else os.rename(tmp, out)
    Path(sys.argv[3]).write_text("ready")
    time.sleep(60)

build.put_in_place = held
config = load_config(Path(sys.argv[1]) / "comunicast.yaml")
build.build_site(config, build.site_out(config, None), now=now(config.tz))
"""


def _killed_build(root: Path, where: str, tmp_path: Path) -> None:
    ready = tmp_path / f"ready-{where}"
    child = subprocess.Popen([sys.executable, "-c", _KILLABLE, str(root), where, str(ready)],
                             cwd=root, env={**os.environ, "COMUNICAST_LANG": "en"})
    _kill_once_ready(child, ready)


def _kill_once_ready(child: subprocess.Popen[bytes], ready: Path) -> None:
    """SIGKILL `child` as soon as it has written something to `ready` (within a minute)."""
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() or not ready.read_text():
            assert child.poll() is None, "the build ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_build_killed_midway_leaves_a_whole_site(
    own: SiteProject, tmp_path: Path, where: str
) -> None:
    site = own.root / "site"
    before = _tree(site)
    draft(own.root, "nuovo", title="Un avviso nuovo", body="Testo nuovo del Comune di oggi.")
    assert run(own.root, "publish", "messages/nuovo.md", "--yes").returncode == 0
    _killed_build(own.root, where, tmp_path)
    after = _tree(site)
    if where == "before":  # killed with the new site built beside it: the old one stands
        assert after == before
    else:  # killed right after the swap: the new site, whole
        assert any(k.endswith("/nuovo.html") for k in after)
        manifest = json.loads(after[".comunicast-site.json"])
        assert set(manifest["files"]) == set(after) - {".comunicast-site.json"}
    leftovers = [p.name for p in own.root.iterdir() if p.name.startswith(".site.tmp-")]
    assert leftovers  # the killed build's folder is still there ...
    done = run(own.root, "site")
    assert done.returncode == 0, done.stderr
    assert not [p for p in own.root.iterdir() if p.name.startswith(".site.tmp-")]  # ... not now
    fresh = run(own.root, "site", "--out", str(tmp_path / "fresh"))
    assert fresh.returncode == 0 and _tree(tmp_path / "fresh") == _tree(site)



def test_the_new_site_is_on_disk_before_it_replaces_the_old_one(
    own: SiteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut right after the swap must find every new file whole: the built folder is
    flushed (syncfs) once it holds the whole site, and before the old site is replaced."""
    from comunicast.clock import now
    from comunicast.config import load_config
    from comunicast.site import build, swap

    site = own.root / "site"
    before = _tree(site)
    draft(own.root, "nuovo", title="Un avviso nuovo", body="Testo nuovo del Comune di oggi.")
    assert run(own.root, "publish", "messages/nuovo.md", "--yes").returncode == 0
    flushed: list[tuple[dict[str, bytes], dict[str, bytes]]] = []
    real = swap.flush

    def flush(folder: Path) -> None:
        real(folder)
        flushed.append((_tree(folder), _tree(site)))

    monkeypatch.setattr(swap, "flush", flush)
    config = load_config(own.root / "comunicast.yaml")
    build.build_site(config, build.site_out(config, None), now=now(config.tz))
    [(built, live)] = flushed
    assert live == before  # not swapped yet
    assert built == _tree(site)  # ... and already the whole new site

_SHARED = """
import os, sys, time
from pathlib import Path
import comunicast.site.build as build
from comunicast.config import load_config
from comunicast.clock import now

build._SHARE_FROM = 1  # the small project's first build shares its pages, as 5,000 would
parent, real = os.getpid(), build._write

def write(path, data):
    if os.getpid() != parent and sys.argv[3] != "-":  # the second process: hold it there
        Path(sys.argv[3]).write_text(str(os.getpid()))
        time.sleep(60)
    real(path, data)

build._write = write
config = load_config(Path(sys.argv[1]) / "comunicast.yaml")
build.build_site(config, Path(sys.argv[2]), now=now(config.tz))
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie nobody reaped is gone too


def test_a_first_build_shared_with_a_second_process_gives_the_same_site(
    own: SiteProject, tmp_path: Path
) -> None:
    env = {**os.environ, "COMUNICAST_LANG": "en"}
    done = subprocess.run([sys.executable, "-c", _SHARED, str(own.root), str(tmp_path / "two"),
                           "-"], cwd=own.root, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert run(own.root, "site", "--out", str(tmp_path / "one")).returncode == 0
    assert _tree(tmp_path / "two") == _tree(tmp_path / "one")


def test_a_shared_build_killed_midway_takes_its_second_process_with_it(
    own: SiteProject, tmp_path: Path
) -> None:
    ready = tmp_path / "helper-pid"
    out = own.root / "shared-site"
    child = subprocess.Popen([sys.executable, "-c", _SHARED, str(own.root), str(out),
                              str(ready)], cwd=own.root, env={**os.environ,
                                                               "COMUNICAST_LANG": "en"})
    _kill_once_ready(child, ready)
    helper = int(ready.read_text())
    deadline = time.monotonic() + 10
    while not _gone(helper):
        assert time.monotonic() < deadline, "the second process outlived the build"
        time.sleep(0.05)
    assert not out.exists()  # nothing was put in place
    started = time.monotonic()
    done = run(own.root, "site", "--out", str(out))  # not held by a lock the helper kept
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    assert not [p for p in own.root.iterdir() if p.name.startswith(".shared-site.tmp-")]
    assert _tree(out) == _tree(own.root / "site")


# -- upgrade ------------------------------------------------------------------------------------


def test_a_ledger_from_before_the_archive_is_upgraded_without_losing_a_row(
    tmp_path: Path,
) -> None:
    from comunicast.config import load_config
    from comunicast.drafts import load_draft
    from comunicast.ledger import MIGRATIONS, Ledger
    from comunicast.publish import plan

    root = tmp_path / "p"
    (root / "messages").mkdir(parents=True)
    config(root)
    same = draft(root, "uguale", title="Ponte chiuso", body="Il ponte resta chiuso per lavori.")
    changed = draft(root, "cambiato", title="Strada chiusa", body="La strada resta chiusa.")
    cfg = load_config(root / "comunicast.yaml")
    old = [m for m in MIGRATIONS if m[0] < "0004"]
    with Ledger.open(cfg.ledger_path, migrations=old) as ledger:
        for path in (same, changed):
            item = plan(cfg, [load_draft(path, cfg.tz)], now=_now(cfg))
            [planned] = item.items
            claim = ledger.claim(planned.message.draft_id, "archivio", planned.message.revision)
            assert claim.publication is not None
            ledger.record(claim.publication.id, "sent", remote_id="x")
    changed.write_text(changed.read_text().replace("chiusa.", "aperta."), encoding="utf-8")
    done = run(root, "site")
    assert done.returncode == 0, done.stderr
    [kept] = (root / "site").glob("*/*/uguale.html")
    assert "Il ponte resta chiuso per lavori." in kept.read_text(encoding="utf-8")
    [unknown] = (root / "site").glob("*/*/cambiato.html")
    text = unknown.read_text(encoding="utf-8")
    assert "was not kept" in text and "aperta" not in text
    log = json.loads(run(root, "log", "--format", "json").stdout)
    assert sorted(r["draft_id"] for r in log) == ["cambiato", "uguale"]
    with Ledger.open(cfg.ledger_path) as ledger:
        origins = {a.draft_id: a.origin for a in ledger.archived()}
    assert origins == {"uguale": "draft", "cambiato": "unknown"}


def _now(cfg: Any) -> Any:
    from comunicast.clock import now

    return now(cfg.tz)


def test_archive_tables_are_listed_for_ledger_copy() -> None:
    from comunicast.ledger import ARCHIVE_TABLES

    assert set(ARCHIVE_TABLES) == {"blobs", "archive"}


def test_a_publication_resolved_as_sent_is_on_the_site(tmp_path: Path) -> None:
    # The archive row is written with the claim: an unknown outcome settled by hand has it.
    from comunicast.config import load_config
    from comunicast.drafts import load_draft
    from comunicast.ledger import Ledger
    from comunicast.publish import archive_entry, plan

    root = tmp_path / "p"
    (root / "messages").mkdir(parents=True)
    config(root)
    path = draft(root, "ponte", title="Ponte chiuso", body="Il ponte resta chiuso per lavori.")
    cfg = load_config(root / "comunicast.yaml")
    [item] = plan(cfg, [load_draft(path, cfg.tz)], now=_now(cfg)).items
    with Ledger.open(cfg.ledger_path) as ledger:
        claim = ledger.claim("ponte", "archivio", item.message.revision,
                             archive=archive_entry(item))
        assert claim.publication is not None
        ledger.record(claim.publication.id, "unknown", error="read timeout")
    path.unlink()  # gone before anyone settles it
    assert run(root, "site").returncode == 0
    assert not list((root / "site").glob("*/*/ponte.html"))
    done = run(root, "resolve", "ponte", "--sender", "archivio", "--as", "sent")
    assert done.returncode == 0, done.stderr
    assert run(root, "site").returncode == 0
    [page] = (root / "site").glob("*/*/ponte.html")
    assert "Il ponte resta chiuso per lavori." in page.read_text(encoding="utf-8")


def test_a_project_that_published_nothing_gets_an_empty_site_in_its_language(
    tmp_path: Path,
) -> None:
    root = tmp_path / "p"
    (root / "messages").mkdir(parents=True)
    config(root, language="it")
    done = run(root, "site", env={"COMUNICAST_LANG": "it"})
    assert done.returncode == 0, done.stderr
    assert not (root / ".comunicast").exists()  # building the site creates no ledger
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="it">')
    assert "Archivio dei messaggi" in html and "Non è ancora stato pubblicato nessun messaggio" in html
    assert "Segui il canale" in html and "Inquadra il QR code" in (
        root / "site" / "iscriviti.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in (root / "site").iterdir()) == [
        ".comunicast-site.json", "atom.xml", "feed.xml", "fonts", "index.html", "iscriviti.html",
        "style.css"]
    assert not feedparser.parse((root / "site" / "feed.xml").read_bytes()).bozo
    assert not feedparser.parse((root / "site" / "atom.xml").read_bytes()).bozo
