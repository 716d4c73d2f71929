"""Review of `check`'s findings cache: inputs the key missed, a ledger write lock it waited on,
and cached reports compared byte for byte with uncached ones across many edits."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import run_cli, write
from PIL import Image
from test_check_cache import NOW, _check, _entries, _findings, cached_project  # noqa: F401

from comunicast.config import load_config
from comunicast.ledger import MIGRATIONS, Ledger
from comunicast.rules import cache as cache_module
from comunicast.rules import settings
from comunicast.rules.run import run_check

REPO = Path(__file__).resolve().parent.parent


def _uncached(root: Path, *args: str, fmt: str = "json") -> str:
    """The report of a run that has no ledger to remember anything in."""
    done = run_cli(["check", "--format", fmt, *args], root,
                   env={**NOW, "COMUNICAST_STATE_DIR": str(root.parent / "no-state")})
    assert done.returncode in (0, 1), done.stderr
    assert not (root.parent / "no-state").exists()
    return done.stdout


# --- the ledger's write lock -------------------------------------------------------------------

def test_a_locked_ledger_from_before_the_cache_does_not_hold_check(
    cached_project: Path,  # noqa: F811
) -> None:
    """Upgrading the ledger (0003_check_cache) needs its write lock; while a `publish` holds it,
    `check` must not wait the ledger's 30 seconds for it: the cache is only an optimisation."""
    ledger = cached_project / ".comunicast" / "ledger.sqlite3"
    ledger.unlink()
    Ledger.open(ledger, migrations=MIGRATIONS[:2]).close()
    expected = json.loads(_uncached(cached_project))
    holder = sqlite3.connect(ledger, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # what a publish does while it records a claim
        started = time.monotonic()
        report = _check(cached_project)
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert report == expected
    assert elapsed < 10, f"check waited {elapsed:.1f} s for the ledger's write lock"
    assert _check(cached_project) == expected  # lock gone: the ledger is upgraded, remembered
    assert len(_entries(cached_project)) == 1


# --- inputs of the key -------------------------------------------------------------------------

def test_an_image_replaced_keeping_its_size_and_time_is_checked_again(
    cached_project: Path,  # noqa: F811
) -> None:
    """`cp -p`, `touch -r`, `rsync -t --inplace` and unpacking an archive rewrite a file in place
    and set its modification time back: size, mtime and inode all stay the same."""
    image = cached_project / "messages" / "foto.png"
    before = _check(cached_project)
    assert "media.format" not in {r for r, *_ in _findings(before)}
    st = image.stat()
    data = image.read_bytes()
    image.write_bytes(b"GIF89a" + data[6:])  # same size, not a PNG any more
    os.utime(image, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = image.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        st.st_size, st.st_mtime_ns, st.st_ino)
    report = _check(cached_project)
    assert "media.format" in {r for r, *_ in _findings(report)}
    assert report == json.loads(_uncached(cached_project))


def test_the_run_key_covers_the_libraries_the_rules_parse_with(
    cached_project: Path,  # noqa: F811
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An upgraded Markdown parser or image library can find other things in the same draft,
    while comunicast itself (its version and files) is unchanged."""
    for name in cache_module.LIBRARIES:
        assert name in sys.modules or __import__(name)  # every one is importable
    config = load_config(cached_project / "comunicast.yaml")
    chosen = settings(config)
    site = tmp_path / "site"
    write(site / "finta_libreria" / "__init__.py", "VERSION = 1\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(cache_module, "LIBRARIES", (*cache_module.LIBRARIES, "finta_libreria"))

    def key() -> str:
        return cache_module.run_key(config, chosen).hexdigest()

    base = key()
    assert key() == base
    (site / "finta_libreria" / "__init__.py").write_text("VERSION = 22\n", encoding="utf-8")
    assert key() != base  # reinstalled, another version


# --- cached == uncached ------------------------------------------------------------------------

def test_the_example_project_reports_the_same_cached_and_uncached(tmp_path: Path) -> None:
    root = tmp_path / "esempio"
    root.mkdir()
    shutil.copy(REPO / "comunicast.yaml", root)
    shutil.copytree(REPO / "messages", root / "messages")
    Ledger.open(root / ".comunicast" / "ledger.sqlite3").close()
    for fmt in ("json", "text", "github"):
        expected = _uncached(root, fmt=fmt)
        for _run in range(2):  # the first run remembers, the second answers from the ledger
            done = run_cli(["check", "--format", fmt], root, env=NOW)
            assert done.stdout == expected, fmt
    assert len(_entries(root)) == len(list((root / "messages").glob("*.[my]*")))


_BODIES = [
    "Ai sensi del regolamento, l'ufficio resta chiuso lunedì.",
    "Info: https://www.comune.cremona.it/a e [qui](https://bit.ly/x)",
    "Chiama il 0372 123456 o scrivi a mario@example.com",
    "IBAN IT60X0542811101000000123456 per il pagamento.",
    "http://example.org/pagina non sicura",
    "TUTTO IN MAIUSCOLO PER DAVVERO ORA.",
    "# Titolo\n\n*parola* importante",
    "Scrivi qui il testo del messaggio.",
    "Link https://user@evil.example/ e https://192.168.1.1/x",
    "parola " * 200,
]
_TITLES = ["Avviso", "Vedi https://www.comune.cremona.it/t", "TITOLO TUTTO MAIUSCOLO QUI", "T" * 80]
_IMAGES = [None, "foto.png", "foto.gif", "manca.png", "cartella", "collegamento.png"]


class _Project:
    """Drafts, images and a configuration that random edits keep changing."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root, self.rng = root, rng
        self.messages = root / "messages"

    def draft(self, i: int) -> None:
        rng = self.rng
        for old in self.messages.glob(f"d{i}.*"):
            old.unlink()
        fields: dict[str, str] = {"title": rng.choice(_TITLES),
                                  "kind": rng.choice(["avviso", "scadenza", "evento"])}
        if fields["kind"] == "scadenza":
            fields["deadline"] = rng.choice(["2026-12-01", "2026-12-31"])
        if fields["kind"] == "evento":
            fields["starts_at"] = rng.choice(["2026-12-01 10:00", "2026-12-31 10:00"])
        if rng.random() < 0.5:
            fields["publish_at"] = rng.choice(["2026-12-01 08:00", "2027-01-10 08:00"])
        image = rng.choice(_IMAGES)
        if image:
            fields["image"] = image
            if rng.random() < 0.8:
                fields["image_alt"] = "Descrizione dell'immagine"
        if rng.random() < 0.2:
            fields["senders"] = rng.choice(["console", "nessuno"])
        if rng.random() < 0.1:
            fields["id"] = rng.choice(["uno", "due"])  # duplicate ids now and then
        body = "\n\n".join(rng.sample(_BODIES, rng.randint(1, 3)))
        head = "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in fields.items())
        if rng.random() < 0.5:
            text, name = f"---\n{head}---\n{body}\n", f"d{i}.md"
        else:
            text, name = head + "text: " + json.dumps(body, ensure_ascii=False) + "\n", f"d{i}.yaml"
        (self.messages / name).write_text(text, encoding="utf-8")

    def image(self) -> None:
        rng, messages = self.rng, self.messages
        choice = rng.randint(0, 5)
        png = messages / "foto.png"
        if choice == 0:
            Image.new("RGB", (rng.randint(10, 60), 20), (rng.randint(0, 255), 0, 0)).save(png)
        elif choice == 1 and png.is_file():  # rewritten in place, size and time kept
            st, data = png.stat(), png.read_bytes()
            png.write_bytes(b"GIF89a" + data[6:] if data[:3] != b"GIF" else b"\x89PNG" + data[4:])
            os.utime(png, ns=(st.st_atime_ns, st.st_mtime_ns))
        elif choice == 2:
            link = messages / "collegamento.png"
            link.unlink(missing_ok=True)
            link.symlink_to(rng.choice(["foto.png", "foto.gif", "manca.png"]))
        elif choice == 3:
            folder = messages / "cartella"
            if folder.is_dir():
                shutil.rmtree(folder)
            else:
                folder.mkdir()
        elif choice == 4:
            Image.new("RGB", (rng.randint(10, 60), 30)).save(messages / "foto.gif", format="GIF")
        else:
            missing = messages / "manca.png"
            if missing.exists():
                missing.unlink()
            else:
                Image.new("RGB", (20, 20)).save(missing)

    def config(self) -> None:
        path = self.root / "comunicast.yaml"
        text = path.read_text(encoding="utf-8")
        pairs = [("title: true", "title: false"),
                 ("allowed_domains: [comune.cremona.it, cremona.it]",
                  "allowed_domains: [example.org]"),
                 ("min_gulpease: 60", "min_gulpease: 90")]
        old, new = self.rng.choice(pairs)
        text = text.replace(old, new) if old in text else text.replace(new, old)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cached_reports_equal_uncached_ones_across_many_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int,
) -> None:
    root = tmp_path / "progetto"
    (root / "messages").mkdir(parents=True)
    config_text = (REPO / "comunicast.yaml").read_text(encoding="utf-8")
    (root / "comunicast.yaml").write_text(
        config_text.replace("default_senders: [archivio]", "default_senders: [console]"),
        encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setenv("COMUNICAST_WORKERS", "1")
    now = datetime(2026, 12, 5, 9, 0, tzinfo=ZoneInfo("Europe/Rome"))
    no_state = tmp_path / "no-state"

    def report(cached: bool) -> str:
        if cached:
            monkeypatch.delenv("COMUNICAST_STATE_DIR", raising=False)
        else:
            monkeypatch.setenv("COMUNICAST_STATE_DIR", str(no_state))
        config = load_config(root / "comunicast.yaml")
        found = run_check([root / "messages"], config, now=now).to_json()
        return json.dumps(found, ensure_ascii=False, indent=1)

    rng = random.Random(seed)
    project = _Project(root, rng)
    Image.new("RGB", (40, 20)).save(root / "messages" / "foto.png")
    for i in range(8):
        project.draft(i)
    Ledger.open(root / ".comunicast" / "ledger.sqlite3").close()
    for step in range(40):
        edit = rng.random()
        if edit < 0.5:
            project.draft(rng.randint(0, 9))
        elif edit < 0.8:
            project.image()
        else:
            project.config()
        expected = report(cached=False)
        assert report(cached=True) == expected, f"step {step}: the run that remembers"
        assert report(cached=True) == expected, f"step {step}: the run that recalls"
    assert not no_state.exists()
    assert _entries(root)
