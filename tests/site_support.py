"""A real project whose ledger was made by real `publish` runs, for the site and browser tests.

28 drafts are published to an outbox through the installed CLI: one with an image, one
emergency still in force, one with a text full of WhatsApp markup and characters that must be
escaped. After publishing, one draft is edited (not republished) and one is deleted with its
image: the site must still show what was sent.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml
from publish_support import BASE, draft, run
from sender_support import jpeg

BASE_URL = "https://www.comune.cremona.it/notizie/"
COUNT = 28  # 26 plain drafts, an emergency, one with an image


@dataclass
class SiteProject:
    root: Path
    image_bytes: bytes
    #: The text of the edited draft as it was sent (the whatsapp body line).
    edited_sent_line: str
    edited_id: str = "avviso-03"
    deleted_id: str = "con-immagine"
    emergency_id: str = "allerta-piena"
    markup_id: str = "avviso-07"


def config(root: Path, *, site: dict[str, str] | None = None, confirm: bool = False,
           language: str = "en") -> None:
    data = {
        **BASE,
        "language": language,
        "senders": {"archivio": {"adapter": "outbox", "path": "outbox/", "confirm": confirm}},
        "default_senders": ["archivio"],
        "site": site if site is not None else {"base_url": BASE_URL},
    }
    (root / "comunicast.yaml").write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def body(n: int) -> str:
    return (f"Il ponte sul Po resta chiuso per lavori di manutenzione, avviso numero {n}. "
            "Informazioni: https://www.comune.cremona.it/viabilita")


def make_site_project(root: Path) -> SiteProject:
    (root / "messages").mkdir(parents=True)
    config(root)
    for n in range(1, 27):
        text = body(n)
        if n == 7:
            text = ("Il **ponte** resta *chiuso* e il ~~vecchio~~ percorso non vale.\n\n"
                    "- via Dante\n- via Verdi\n\n> Attenzione: 3 < 5 & 7 > 2, \"sempre\".\n\n"
                    "Vedi https://www.comune.cremona.it/viabilita?a=1&b=2")
        draft(root, f"avviso-{n:02d}", title=f"Avviso numero {n} sul ponte", body=text)
    image = jpeg(root / "messages" / "mappa.jpg", (120, 80))
    draft(root, "con-immagine", title="Nuova mappa dei percorsi", body=body(99),
          extra="image: mappa.jpg\nimage_alt: Mappa dei percorsi alternativi in centro")
    draft(root, "allerta-piena", title="Piena del Po, chiuse le golene", kind="emergenza",
          body="Il livello del Po sta salendo: le golene sono chiuse fino a nuovo avviso.",
          extra="expires_at: 2099-01-01 00:00")
    done = run(root, "publish", "messages/", "--yes")
    assert done.returncode == 0, done.stderr
    # After publishing: one draft edited (not sent again), one deleted with its image.
    edited = root / "messages" / "avviso-03.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace(
        "avviso numero 3.", "avviso numero 3, testo cambiato dopo l'invio."), encoding="utf-8")
    image_bytes = image.read_bytes()
    (root / "messages" / "con-immagine.md").unlink()
    image.unlink()
    return SiteProject(root, image_bytes, "avviso numero 3. Informazioni")


def copy_project(source: Path, dest: Path) -> Path:
    """A copy of a built project (ledger, drafts, outbox), to change without touching others."""
    shutil.copytree(source, dest, symlinks=True)
    return dest
