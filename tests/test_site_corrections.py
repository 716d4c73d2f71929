"""Corrections and withdrawal on the archive site and the outbox desk (SPEC §9, §10).

Real runs of the installed CLI: three drafts published to an outbox, one corrected with
`publish --edit`, one withdrawn with `withdraw --reason`, then `site`.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
from publish_support import draft, run
from site_support import BASE_URL, config

OLD = "Il ponte sul Po resta chiuso dal 2 al 5 dicembre per lavori di manutenzione."
NEW = "Il ponte sul Po resta chiuso dal 9 al 12 dicembre per lavori di manutenzione."
REASON = "Lavori rinviati a data da destinarsi"


@dataclass
class Project:
    root: Path

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"


def _ok(root: Path, *args: str) -> None:
    done = run(root, *args)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("site10") / "project"
    (root / "messages").mkdir(parents=True)
    config(root)
    draft(root, "ponte", title="Ponte sul Po chiuso", body=OLD)
    draft(root, "mercato", title="Mercato spostato in piazza Stradivari",
          body="Il mercato del sabato si tiene in piazza Stradivari fino a fine mese.")
    draft(root, "biblioteca", title="Biblioteca aperta la domenica",
          body="La biblioteca civica resta aperta anche la domenica mattina.")
    _ok(root, "publish", "messages/", "--yes")
    _ok(root, "site")
    assert (root / "site" / _page(root / "site", "mercato")).is_file()
    time.sleep(1.1)  # feeds date to the second: the correction is a second later at least
    draft(root, "ponte", title="Ponte sul Po chiuso", body=NEW)
    _ok(root, "publish", "messages/ponte.md", "--edit", "--yes")
    _ok(root, "withdraw", "mercato", "--reason", REASON)
    _ok(root, "site")
    return Project(root)


def _page(site: Path, draft_id: str) -> str:
    found = [p for p in site.rglob(f"{draft_id}.html") if p.parent.name.isdigit()]
    return found[0].relative_to(site).as_posix() if found else ""


def test_a_corrected_message_shows_its_new_text_and_below_the_earlier_one(
    project: Project,
) -> None:
    page = (project.site / _page(project.site, "ponte")).read_text(encoding="utf-8")
    assert "dal 9 al 12 dicembre" in page
    assert "Earlier versions" in page
    current, _sep, history = page.partition("Earlier versions")
    assert "dal 9 al 12 dicembre" in current and "dal 2 al 5 dicembre" not in current
    assert "dal 2 al 5 dicembre" in history and "<time" in history


def test_a_withdrawn_message_leaves_pages_index_and_feeds(project: Project) -> None:
    assert _page(project.site, "mercato") == ""
    texts = [p.read_text(encoding="utf-8") for p in project.site.rglob("*.html")]
    texts += [(project.site / n).read_text(encoding="utf-8") for n in ("feed.xml", "atom.xml")]
    assert not any("piazza Stradivari" in t for t in texts)
    assert any("Biblioteca aperta la domenica" in t for t in texts)
    manifest = (project.site / ".comunicast-site.json")
    if manifest.is_file():
        assert "mercato" not in manifest.read_text(encoding="utf-8")



def test_the_site_rebuilt_after_a_correction_and_a_withdrawal_equals_one_from_scratch(
    project: Project, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh"
    _ok(project.root, "site", "--out", str(fresh))
    assert _tree(fresh) == _tree(project.site)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}

@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_feeds_carry_the_current_text_and_drop_the_withdrawn(project: Project, name: str) -> None:
    feed = feedparser.parse((project.site / name).read_bytes())
    assert not feed.bozo, feed.bozo_exception
    titles = [e.title for e in feed.entries]
    assert "Mercato spostato in piazza Stradivari" not in titles
    assert sorted(titles) == ["Biblioteca aperta la domenica", "Ponte sul Po chiuso"]
    [ponte] = [e for e in feed.entries if e.title == "Ponte sul Po chiuso"]
    content = " ".join(c.value for c in ponte.get("content", [])) + ponte.get("summary", "")
    assert "dal 9 al 12 dicembre" in content and "dal 2 al 5 dicembre" not in content
    assert ponte.link.startswith(BASE_URL)
    if name == "atom.xml":
        assert ponte.updated_parsed > ponte.published_parsed


def test_a_rebuild_after_corrections_changes_no_file(project: Project) -> None:
    before = {p: p.read_bytes() for p in sorted(project.site.rglob("*")) if p.is_file()}
    _ok(project.root, "site")
    after = {p: p.read_bytes() for p in sorted(project.site.rglob("*")) if p.is_file()}
    assert before == after


def test_the_desk_lists_the_correction_and_the_withdrawal(project: Project) -> None:
    desk = (project.outbox / "index.html").read_text(encoding="utf-8")
    [correction] = project.outbox.glob("ponte.archivio.correction.*.json")
    withdrawal = project.outbox / "mercato.archivio.withdrawal.json"
    assert json.loads(withdrawal.read_text(encoding="utf-8"))["reason"] == REASON
    assert json.loads(correction.read_text(encoding="utf-8"))["action"] == "edit"
    assert "Correction: paste this text over the update already published" in desk
    assert "dal 9 al 12 dicembre" in desk
    assert "Withdrawal: delete this update from the channel by hand" in desk
    assert REASON in desk
    # The publications themselves are still listed, and each entry once.
    assert len(re.findall(r'id="p-ponte-archivio-correction-[0-9a-f]{12}"', desk)) == 1
    assert desk.count('id="p-mercato-archivio-withdrawal"') == 1
    assert desk.count('id="p-biblioteca-archivio"') == 1


def _article(desk: str, entry_id: str) -> str:
    start = desk.index(f'<article class="pub" id="{entry_id}"')
    return desk[start : desk.index("</article>", start)]


def test_a_withdrawal_on_the_desk_says_to_delete_by_hand_and_offers_nothing_to_copy(
    project: Project,
) -> None:
    desk = (project.outbox / "index.html").read_text(encoding="utf-8")
    withdrawal = _article(desk, "p-mercato-archivio-withdrawal")
    assert "press and hold it and choose Delete. There is nothing to paste." in withdrawal
    assert "The update to delete:" in withdrawal and "piazza Stradivari fino a fine mese" in withdrawal
    # No way to put the withdrawn text on the clipboard, or to select it to paste.
    assert 'class="copy"' not in withdrawal and "data-copy" not in withdrawal
    assert "<textarea" not in withdrawal and 'type="application/json"' not in withdrawal
    assert "comunicast resolve" not in withdrawal
    # A correction keeps its copy button: its text is what staff paste over the old one.
    [correction] = re.findall(r'id="(p-ponte-archivio-correction-[0-9a-f]{12})"', desk)
    entry = _article(desk, correction)
    assert 'class="copy"' in entry and f'data-copy="{correction}-text"' in entry
    assert "dal 9 al 12 dicembre" in entry


def test_the_desk_speaks_italian_for_a_withdrawal(project: Project, tmp_path: Path) -> None:
    import shutil

    from comunicast.i18n import language
    from comunicast.site.desk import Desk

    outbox = tmp_path / "outbox"
    shutil.copytree(project.outbox, outbox)
    with language("it"):
        Desk(outbox, sender="archivio", language="it", organization="Comune").refresh()
    desk = (outbox / "index.html").read_text(encoding="utf-8")
    withdrawal = html.unescape(_article(desk, "p-mercato-archivio-withdrawal"))
    assert "tienilo premuto e scegli Elimina. Non c'è niente da incollare." in withdrawal
    assert "L'aggiornamento da eliminare:" in withdrawal
    assert "Copia testo" not in withdrawal and "Copia testo" in desk
