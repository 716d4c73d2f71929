#!/usr/bin/env python3
"""Wall time of `comunicast site` and of the outbox desk, end to end.

Usage: python benchmarks/site.py [--publications 5000] [--runs 3] [--due-drafts 200]
                                 [--site-dir DIR]

`--site-dir` builds the site under DIR instead of beside comunicast.yaml (e.g. /dev/shm, to
tell comunicast's own time from a file system that is slow to create files).

1. `comunicast site` from scratch over a ledger of 5,000 sent publications (one in ten with an
   image; written through the ledger's own claim/record with the archive entry, as `publish`
   does). Target ≤ 4 s.
2. `comunicast site` again after one new publication (its page, the index pages and the feeds
   are rendered; every other file is linked from the previous site). Target ≤ 1 s.
3. `comunicast site` with nothing new (writes nothing).
Before each timed command the script calls sync(2): on a VM's disk, what the previous step wrote
or deleted (the ledger set up without fsync, the previous round's folders) is otherwise flushed,
discards included, during the next one, and charged to it.

Each round also times the floors beneath cases 1 and 2, on the same file system: "bare
files", a Python that only creates the built site's files (same folders, names and sizes) with
open/write/close; "bare links", the time a Python takes only to hard-link every file of a site into a new
folder and then remove the previous folder's names, as a rebuild does for the files that did
not change (timed inside the script: no start-up); and "bare start-up", a Python that
only imports typer and comunicast's configuration module (what any command pays first).
4. `comunicast publish --due` of 200 drafts to an `outbox` sender, which refreshes its desk
   (index.html) after every file: median of `--runs`. Compare with `benchmarks/publish.py`'s
   200-draft webhook run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _common import comunicast_exe, comunicast_python

CONFIG = """\
organization:
  name: Comune di Cremona
  website: https://www.comune.cremona.it
channel:
  invite_url: https://whatsapp.com/channel/0029VaTestTestTestTest00
timezone: Europe/Rome
senders:
  archivio:
    adapter: outbox
    path: outbox/
site:
  base_url: https://www.comune.cremona.it/notizie/
"""
DRAFT = """\
---
title: Avviso numero {n}
kind: avviso
publish_at: 2026-12-01 08:00
---
Il **ponte sul Po** resta chiuso dal 2 al 5 dicembre per lavori (avviso {n}).

Percorsi alternativi: https://www.comune.cremona.it/viabilita
"""
TEXT = ("*Avviso numero {n}*\n\nIl *ponte sul Po* resta chiuso dal 2 al 5 dicembre per lavori "
        "(avviso {n}).\n\n- via Dante\n- via Verdi\n\nPercorsi alternativi: "
        "https://www.comune.cremona.it/viabilita")


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("COMUNICAST_")}
    out["COMUNICAST_NOW"] = "2026-12-01T09:00:00"
    return out


CPU: dict[str, list[float]] = {}


def timed(args: list[str], cwd: Path, label: str = "") -> tuple[float, str]:
    """Wall seconds and stdout of one `comunicast` run; its CPU seconds are kept under `label`."""
    return _run([*comunicast_exe(), *args], cwd, label)


def _run(cmd: list[str], cwd: Path, label: str) -> tuple[float, str]:
    os.sync()  # the previous step's writes and deletions are not this run's to wait for
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{cmd} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(label, []).append(cpu)
    return elapsed, done.stdout


def _image(n: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (n % 256, 51, 102)).save(buffer, "JPEG")
    return buffer.getvalue()


def ledger(root: Path, count: int, start: int = 0) -> None:
    from comunicast.ledger import Ledger
    from comunicast.ledger_archive import ArchiveEntry

    with Ledger.open(root / ".comunicast" / "ledger.sqlite3") as led:
        led.conn.execute("PRAGMA synchronous = OFF")  # setting up, not measured
        for n in range(start, start + count):
            image = _image(n) if n % 10 == 0 else None
            entry = ArchiveEntry(
                origin="publish", target="whatsapp", title=f"Avviso numero {n}", kind="avviso",
                text=TEXT.format(n=n), plain=TEXT.format(n=n).replace("*", ""),
                links=["https://www.comune.cremona.it/viabilita"],
                image=image, image_type="image/jpeg" if image else None,
                image_alt="Mappa dei percorsi" if image else None,
            )
            claim = led.claim(f"avviso-{n:05d}", "archivio", f"v1:{n:064x}", archive=entry)
            assert claim.publication is not None
            led.record(claim.publication.id, "sent", remote_id=f"avviso-{n:05d}.archivio.json")


def bench_site(publications: int, runs: int, site_dir: Path | None
               ) -> list[tuple[str, float, float, str, str]]:
    results = []
    full, incremental, nothing = [], [], []
    floors: dict[str, list[float]] = {"files": [], "links": [], "start-up": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory(
                dir=site_dir) as out_tmp:
            root = Path(tmp)
            out = ["--out", str(Path(out_tmp) / "site")] if site_dir else []
            (root / "comunicast.yaml").write_text(CONFIG, encoding="utf-8")
            ledger(root, publications)
            full.append(timed(["site", *out], root, "full")[0])
            ledger(root, 1, start=publications)
            wall, text = timed(["site", "--format", "json", *out], root, "one")
            incremental.append(wall)
            report = json.loads(text)
            nothing.append(timed(["site", *out], root, "nothing")[0])
            # The floors last: deleting their files must not weigh on the cases above.
            site = Path(out[1]) if out else root / "site"
            for name, script in (("files", _BARE_FILES), ("links", _BARE_LINKS)):
                bare = site.with_name(f"bare-{name}")
                floors[name].append(_floor([comunicast_python(), "-c", script, str(site),
                                            str(bare)], root, name))
                shutil.rmtree(bare, ignore_errors=True)
            floors["start-up"].append(_floor(
                [comunicast_python(), "-c", "import typer, comunicast.config"], root, "start-up"))
    results.append((f"site: full build, {publications} publications", statistics.median(full),
                    max(full), "4.0", "full"))
    results.append((f"site: rebuild after one new ({report['rendered']} files rendered)",
                    statistics.median(incremental), max(incremental), "1.0", "one"))
    results.append(("site: rebuild with nothing new", statistics.median(nothing), max(nothing),
                    "1.0", "nothing"))
    for name, label in (("files", "floor: bare files (create the site's files)"),
                        ("links", "floor: bare links (link the files, unlink the old)"),
                        ("start-up", "floor: bare start-up (import typer, config)")):
        results.append((label, statistics.median(floors[name]), max(floors[name]), "-", name))
    return results


def _floor(cmd: list[str], cwd: Path, label: str) -> float:
    """Wall seconds of a bare Python command, or the seconds it prints (its CPU seconds are
    kept under `label`)."""
    elapsed, out = _run(cmd, cwd, label)
    return float(out) if out.strip() else elapsed


#: Floors: what the file system alone costs for the site's files (argv: site, new folder).
_BARE_FILES = """
import os, sys
site, dest = sys.argv[1], sys.argv[2]
todo = []
for folder, _dirs, names in os.walk(site):
    rel = os.path.relpath(folder, site)
    todo.append((rel, [(n, os.path.getsize(os.path.join(folder, n))) for n in names]))
for rel, files in todo:  # the sizes are read first: only the writing is the floor's
    target = os.path.join(dest, rel)
    os.makedirs(target, exist_ok=True)
    for name, size in files:
        fd = os.open(os.path.join(target, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b"x" * size)
        os.close(fd)
"""
_BARE_LINKS = """
import os, shutil, sys, time
site, dest = sys.argv[1], sys.argv[2]

def link_all(source, target):
    for folder, _dirs, names in os.walk(source):
        into = os.path.join(target, os.path.relpath(folder, source))
        os.makedirs(into, exist_ok=True)
        for name in names:
            os.link(os.path.join(folder, name), os.path.join(into, name))

link_all(site, dest + ".old")  # stands for the previous site
start = time.perf_counter()
link_all(dest + ".old", dest)  # the new site's unchanged files ...
shutil.rmtree(dest + ".old")  # ... and the previous site's names removed after the swap
print(time.perf_counter() - start)
"""


def bench_desk(drafts: int, runs: int) -> tuple[str, float, float, str, str]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "comunicast.yaml").write_text(CONFIG, encoding="utf-8")
            (root / "messages").mkdir()
            for n in range(drafts):
                (root / "messages" / f"avviso-{n:03d}.md").write_text(DRAFT.format(n=n))
            times.append(timed(["publish", "--due"], root, "desk")[0])
            desk = (root / "outbox" / "index.html").read_text(encoding="utf-8")
            assert desk.count('class="copy"') == drafts
    return (f"publish --due, {drafts} drafts -> outbox + desk", statistics.median(times),
            max(times), "-", "desk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publications", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--due-drafts", type=int, default=200)
    parser.add_argument("--site-dir", type=Path, default=None)
    args = parser.parse_args()
    cases = [*bench_site(args.publications, args.runs, args.site_dir),
             bench_desk(args.due_drafts, args.runs)]
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"{'case':<58} {'median':>8} {'max':>8} {'CPU':>8} {'target':>7}")
    for label, median, worst, target, key in cases:
        verdict = "" if target == "-" else ("ok" if median <= float(target) else "OVER")
        cpu = statistics.median(CPU[key])
        print(f"{label:<58} {median:>7.3f}s {worst:>7.3f}s {cpu:>7.3f}s {target:>6}s  {verdict}")


if __name__ == "__main__":
    main()
