"""The desk (`index.html` of an outbox folder) and the WhatsApp markup → HTML it shows."""

from __future__ import annotations

import json
import os
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sender_support import jpeg, message, project_config

from comunicast.senders.outbox import OutboxSender
from comunicast.senders.registry import create_sender
from comunicast.site.markup import WORD_JOINER, to_html, without_title

REV_A = "v1:" + "a1b2c3d4e5f6" + "0" * 52
REV_B = "v1:" + "b" * 64


def _sender(root: Path) -> OutboxSender:
    sender = create_sender(
        project_config(root, {"archivio": {"adapter": "outbox", "path": "outbox"}}), "archivio")
    assert isinstance(sender, OutboxSender)
    return sender


class _Desk(HTMLParser):
    """The texts the page will copy (`<script type="application/json">`) and article ids."""

    def __init__(self) -> None:
        super().__init__()
        self.articles: list[str] = []
        self.copies: dict[str, str] = {}
        self._script: str | None = None
        self.images: list[dict[str, str | None]] = []
        self.downloads: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "article":
            self.articles.append(a["id"] or "")
        if tag == "script" and a.get("type") == "application/json":
            self._script = a["id"]
            self.copies[self._script or ""] = ""
        if tag == "img":
            self.images.append(a)
        if tag == "a" and "download" in a:
            self.downloads.append(a["href"])

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.copies[self._script] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def _desk(folder: Path) -> _Desk:
    parser = _Desk()
    parser.feed((folder / "index.html").read_text(encoding="utf-8"))
    return parser


TRICKY = (
    "*Ponte chiuso*\n\n</script><script>alert(1)</script> & \u2028 «virgolette» \"doppie\"\n"
    f"5 {WORD_JOINER}*{WORD_JOINER} 3 — 🔔 https://www.comune.cremona.it/a_b_c\n\n"
    "```\nmono\n```\n"
)


def test_the_desk_lists_newest_first_and_copies_exactly_the_json_text(tmp_path: Path) -> None:
    sender = _sender(tmp_path)
    for n, text in enumerate(["primo testo", TRICKY, "terzo"]):
        sender.send(message(text, sender="archivio", draft_id=f"d{n}"))
        time.sleep(1.05)  # created_at has whole seconds
    folder = tmp_path / "outbox"
    desk = _desk(folder)
    assert desk.articles == ["p-d2-archivio", "p-d1-archivio", "p-d0-archivio"]
    for n in range(3):
        data = json.loads((folder / f"d{n}.archivio.json").read_text(encoding="utf-8"))
        assert json.loads(desk.copies[f"p-d{n}-archivio-text"]) == data["text"]
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html.replace("\\u003cscript", "")
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, escaped
    assert "<strong>Ponte chiuso</strong>" in html and "<pre>mono</pre>" in html
    assert '<a href="https://www.comune.cremona.it/a_b_c">' in html


def test_the_desk_shows_the_image_with_a_download_link_and_its_alt(tmp_path: Path) -> None:
    image = jpeg(tmp_path / "src" / "mappa.jpg")
    _sender(tmp_path / "p").send(message(sender="archivio", image=image))
    desk = _desk(tmp_path / "p" / "outbox")
    assert desk.images == [{"class": "bubble-image", "src": "2026-12-01-ponte.archivio.jpg",
                            "alt": "Mappa dei percorsi alternativi"}]
    assert desk.downloads == ["2026-12-01-ponte.archivio.jpg"]
    html = (tmp_path / "p" / "outbox" / "index.html").read_text(encoding="utf-8")
    assert "Mappa dei percorsi alternativi</p>" in html and "To paste" in html


def test_copies_of_earlier_revisions_are_not_on_the_desk(tmp_path: Path) -> None:
    sender = _sender(tmp_path)
    sender.send(message("prima", sender="archivio", revision=REV_A))
    sender.send(message("seconda", sender="archivio", revision=REV_B))
    sender.close()
    desk = _desk(tmp_path / "outbox")
    assert desk.articles == ["p-2026-12-01-ponte-archivio"]
    assert json.loads(desk.copies["p-2026-12-01-ponte-archivio-text"]) == "seconda"


def test_each_file_is_read_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Many publications in one run must not re-read (and re-render) every earlier file each time.
    sender = _sender(tmp_path)
    sender.send(message("uno", sender="archivio", draft_id="a"))
    from comunicast.site import desk as desk_module

    reads: list[str] = []
    real = desk_module.Desk._read

    def counting(self: desk_module.Desk, name: str, key: tuple[int, int]) -> object:
        reads.append(name)
        return real(self, name, key)

    monkeypatch.setattr(desk_module.Desk, "_read", counting)
    for n in range(5):
        sender.send(message(f"testo {n}", sender="archivio", draft_id=f"b{n}"))
    sender.close()  # a refresh put off while files came in quick succession is written now
    assert sorted(reads) == sorted(f"b{n}.archivio.json" for n in range(5))
    assert len(_desk(tmp_path / "outbox").articles) == 6


def test_a_run_of_many_files_refreshes_the_desk_a_few_times_and_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from comunicast.site import desk as desk_module

    sender = _sender(tmp_path)
    refreshes: list[int] = []
    real = desk_module.Desk.refresh

    def counting(self: desk_module.Desk) -> None:
        refreshes.append(1)
        real(self)

    monkeypatch.setattr(desk_module.Desk, "refresh", counting)
    for n in range(30):
        sender.send(message(f"testo {n}", sender="archivio", draft_id=f"c{n:02d}"))
    sender.close()
    assert 2 <= len(refreshes) < 30
    assert len(_desk(tmp_path / "outbox").articles) == 30


def test_the_desk_is_replaced_atomically(tmp_path: Path) -> None:
    sender = _sender(tmp_path)
    sender.send(message("uno", sender="archivio", draft_id="a"))
    before = os.stat(tmp_path / "outbox" / "index.html").st_ino
    sender.send(message("due", sender="archivio", draft_id="b"))
    sender.close()
    assert os.stat(tmp_path / "outbox" / "index.html").st_ino != before
    assert not [p for p in (tmp_path / "outbox").iterdir() if p.name.startswith(".")]


# -- markup ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "html"), [
    ("*grassetto* _corsivo_ ~barrato~", ("<p><strong>grassetto</strong> <em>corsivo</em> "
                                         "<s>barrato</s></p>")),
    ("5 * 3 * 2", "<p>5 * 3 * 2</p>"),  # markers between spaces never pair
    ("snake_case_name", "<p>snake_case_name</p>"),  # nor inside words
    (f"{WORD_JOINER}*non grassetto*{WORD_JOINER}",
     f"<p>{WORD_JOINER}*non grassetto*{WORD_JOINER}</p>"),  # the renderer's protection
    ("`codice` e ```mono```", "<p><code>codice</code> e <code>mono</code></p>"),
    ("https://x.comune.it/a_b_c_d.", ('<p><a href="https://x.comune.it/a_b_c_d">'
                                     "https://x.comune.it/a_b_c_d</a>.</p>")),
    # The renderer never lets a marker touch a URL: `*Vedi* https://… *ora*`.
    ("*Vedi* https://x.it/p *ora*", ('<p><strong>Vedi</strong> <a href="https://x.it/p">'
                                    "https://x.it/p</a> <strong>ora</strong></p>")),
    ("- uno\n- due", "<ul><li>uno</li><li>due</li></ul>"),
    ("3. tre\n4. quattro", '<ol start="3"><li>tre</li><li>quattro</li></ol>'),
    ("> citato\n> ancora", "<blockquote><p>citato<br>\nancora</p></blockquote>"),
    ("<b>&amp;</b>", "<p>&lt;b&gt;&amp;amp;&lt;/b&gt;</p>"),
    ('https://x.it/"><script>', ('<p><a href="https://x.it/">https://x.it/</a>'
                                '"&gt;&lt;script&gt;</p>')),
    ("```\n*non* formattato\n```", "<pre>*non* formattato</pre>"),
])
def test_whatsapp_markup_to_html(text: str, html: str) -> None:
    assert to_html(text) == html


def test_plain_text_gets_links_but_no_emphasis() -> None:
    assert to_html("*a* https://x.it", markup=False) == (
        '<p>*a* <a href="https://x.it">https://x.it</a></p>')


def test_the_title_line_is_not_repeated_under_the_heading() -> None:
    assert without_title("*Ponte chiuso*\n\nTesto.", "Ponte chiuso") == "Testo."
    assert without_title("Ponte chiuso\n\nTesto.", "Ponte chiuso", markup=False) == "Testo."
    assert without_title("Altro\n\nTesto.", "Ponte chiuso") == "Altro\n\nTesto."
