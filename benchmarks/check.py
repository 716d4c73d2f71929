#!/usr/bin/env python3
"""Wall time and peak memory of the whole `comunicast check` command on N generated drafts.

Usage:
  python benchmarks/check.py [--drafts 1000] [--runs 3]            offline rules
  python benchmarks/check.py --online [--runs 3] [--urls 500] [--origins 10] [--delay 0.1]

Offline: N realistic drafts (Italian text, links, lists, some images, schedules) in a temporary
project; target for 1,000 drafts: ≤ 2.0 s and ≤ 200 MB. Online: 500 distinct URLs spread over
10 loopback origins (127.0.0.1 … 127.0.0.10), each answering after 100 ms; target ≤ 2.0 s on the
first run and ≤ 0.5 s with no request at all on a second run within the TTL (the ledger cache);
each round starts from an empty cache (no `.comunicast/`). Issue 14 asks ≤ 1.5 s and ≤ 0.35 s.

Online, each round also times two floors with the same interpreter, interleaved with the
command: "bare network", a Python that only imports asyncio and aiohttp and asks the same URLs
through comunicast's own client code (`linkcheck._run`, default limits), nothing else; and
"bare start-up", a Python that only imports typer and comunicast's configuration module (what
any command pays before it reads a file). No `check --online` can be quicker than the first on a
first run, nor than the second on a cached one.
Peak memory is the child's maximum resident set size (os.wait4), interpreter included.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from _common import comunicast_exe, comunicast_python

CONFIG = """\
organization:
  name: Comune di Cremona
  website: https://www.comune.cremona.it
channel:
  invite_url: https://whatsapp.com/channel/0029VaBenchBenchBench0000
timezone: Europe/Rome
links:
  allowed_domains: [comune.cremona.it, cremona.it]
privacy:
  allow: ["0372 407111", "urp@comune.cremona.it"]
senders:
  whatsapp:
    adapter: console
  archivio:
    adapter: outbox
    path: outbox/
default_senders: [whatsapp, archivio]
{rules}
"""

ONLINE_RULES = """\
rules:
  links.domain: off       # the loopback origins are not the Comune's domains
  links.deceptive: off    # nor named hosts: they are IP literals
  links.count: off
  links.scheme: off       # nor https: plain http on loopback
"""

KINDS = ["notizia", "servizio", "scadenza", "evento", "emergenza", "avviso"]
PLACES = ["via Dante", "corso Garibaldi", "piazza del Comune", "via Mantova", "largo Boccaccino",
          "viale Po", "via Bergamo", "piazza Stradivari", "via Giuseppina", "Borgo Loreto"]
SUBJECTS = ["il ponte sul Po", "l'ufficio anagrafe", "la biblioteca Sormani", "il mercato",
            "la raccolta dei rifiuti", "il servizio di trasporto scolastico", "la mensa",
            "lo sportello tributi", "il parcheggio", "la piscina comunale"]
SENTENCES = [
    "Da lunedì {day} dicembre {subject} in {place} cambia orario.",
    "Il servizio resta aperto dalle 8.30 alle 12.30, anche il sabato mattina.",
    "Per informazioni chiamate l'URP allo 0372 407111 o scrivete a urp@comune.cremona.it.",
    "I lavori durano circa due settimane e riguardano la rete dell'acqua.",
    "Chi ha già prenotato non deve fare nulla: l'appuntamento resta valido.",
    "Portate un documento d'identità e la tessera sanitaria.",
    "In caso di pioggia l'evento si tiene nel cortile del palazzo comunale.",
    "La domanda si presenta online, con SPID o CIE, entro la fine del mese.",
    "Le famiglie con ISEE sotto i 15.000 euro pagano la tariffa ridotta.",
    "Ai sensi del regolamento, il pagamento si fa con PagoPA.",
    "Il traffico è deviato su {place} per tutta la durata del cantiere.",
    "Vi ringraziamo per la pazienza e la collaborazione.",
]
LINKS = ["https://www.comune.cremona.it/{slug}", "https://comune.cremona.it/servizi/{slug}",
         "https://www.cremona.it/eventi/{slug}"]


def draft_text(i: int, rng: random.Random, urls: list[str], image: str | None) -> str:
    kind = KINDS[i % len(KINDS)]
    subject = rng.choice(SUBJECTS)
    place = rng.choice(PLACES)
    day = 1 + i % 28
    front = [f"title: {subject.capitalize()} in {place}, novità dal {day} dicembre",
             f"kind: {kind}", f"publish_at: 2030-12-{day:02d} 08:00"]
    if kind == "scadenza":
        front.append(f"deadline: 2030-12-{min(day + 2, 28):02d}")
    if kind == "evento":
        front.append(f"starts_at: 2030-12-{min(day + 3, 28):02d} 17:00")
        front.append(f"where: {place}")
    if image:
        front.append(f"image: {image}")
        front.append("image_alt: Mappa della zona interessata")
    paragraphs = []
    for _ in range(rng.randint(2, 3)):
        chosen = rng.sample(SENTENCES, 2)
        paragraphs.append(" ".join(s.format(day=day, subject=subject, place=place) for s in chosen))
    if rng.random() < 0.3:
        paragraphs.append("- orari: dalle 9 alle 12\n- dove: " + place + "\n- costo: **gratuito**")
    paragraphs.append("Dettagli: " + " ".join(urls))
    return "---\n" + "\n".join(front) + "\n---\n" + "\n\n".join(paragraphs) + "\n"


def make_project(root: Path, drafts: int, url_lists: list[list[str]] | None, online: bool) -> None:
    from PIL import Image

    rng = random.Random(20261201)
    (root / "messages").mkdir(parents=True)
    (root / "comunicast.yaml").write_text(CONFIG.format(rules=ONLINE_RULES if online else ""),
                                          encoding="utf-8")
    images = []
    for n in range(5):  # a few real JPEGs, shared by the drafts that carry one
        name = f"foto-{n}.jpg"
        Image.new("RGB", (800, 600), (30 * n, 90, 160)).save(root / "messages" / name, "JPEG")
        images.append(name)
    for i in range(drafts):
        if url_lists is not None:
            urls = url_lists[i]
        else:
            urls = [rng.choice(LINKS).format(slug=f"pagina-{i}-{k}") for k in range(rng.randint(1, 2))]
        image = images[i % len(images)] if i % 10 == 0 else None
        text = draft_text(i, rng, urls, image)
        (root / "messages" / f"2030-12-{i:05d}-avviso.md").write_text(text, encoding="utf-8")


WORKERS: str | None = None


def run_command(cmd: list[str], cwd: Path) -> tuple[float, float, int, float]:
    """(wall seconds, peak MB, exit code, CPU seconds) of one run of `cmd`."""
    # PYTHONDONTWRITEBYTECODE off: an installed package has its bytecode compiled (pip does it).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COMUNICAST_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["COMUNICAST_NOW"] = "2030-11-30T12:00:00"
    if WORKERS:
        env["COMUNICAST_WORKERS"] = WORKERS
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.read()  # drain, as a terminal or a pipe would
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    return seconds, peak_mb, proc.returncode, usage.ru_utime + usage.ru_stime



class _Origins:
    """Loopback HTTP/1.1 origins on one asyncio loop (in a thread), each answering after a delay.

    asyncio keeps the harness cheap: a thread-per-connection server would spend more CPU than
    the client being measured.
    """

    def __init__(self, count: int, delay: float) -> None:
        self.count = count
        self.delay = delay
        self.requests = 0
        self.bases: list[str] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait()

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            for n in range(self.count):
                server = await asyncio.start_server(self._handle, f"127.0.0.{n + 1}", 0)
                port = server.sockets[0].getsockname()[1]
                self.bases.append(f"http://127.0.0.{n + 1}:{port}")

        self.loop.run_until_complete(start())
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                await asyncio.sleep(self.delay)
                body = b"" if head.startswith(b"HEAD") else b"ok"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: 2\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def offline(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.drafts, None, online=False)
        cmd = [*comunicast_exe(), "check", "--format", "json"]
        run_command(cmd, root)  # warm the OS cache and .pyc files
        results = [run_command(cmd, root) for _ in range(args.runs)]
        # A project that has published once has a ledger: `check` then remembers the findings
        # of unchanged drafts (the cron case). The first such run fills the cache.
        from comunicast.ledger import Ledger

        Ledger.open(root / ".comunicast" / "ledger.sqlite3").close()
        filling = run_command(cmd, root)
        cached = [run_command(cmd, root) for _ in range(args.runs)]
    for name, runs in (("offline", results), ("offline, findings cached", cached)):
        best = min(runs, key=lambda r: r[0])
        print(f"{name}: {args.drafts} drafts: best of {args.runs}: {best[0]:.2f} s wall "
              f"({best[3]:.2f} s CPU), peak {best[1]:.0f} MB (exit {best[2]}); all runs: "
              + ", ".join(f"{r[0]:.2f} s" for r in runs))
        if name == "offline":
            print(f"  (then a ledger was created; the run filling its cache took {filling[0]:.2f} s)")


def online(args: argparse.Namespace) -> None:
    origins = _Origins(args.origins, args.delay)
    bases = origins.bases
    per_draft = 5
    drafts = args.urls // per_draft
    url_lists = [[f"{bases[(d * per_draft + k) % len(bases)]}/pagina/{d}/{k}"
                  for k in range(per_draft)] for d in range(drafts)]
    firsts: list[tuple[float, float, int, float]] = []
    seconds: list[tuple[float, float, int, float]] = []
    requests_first: list[int] = []
    requests_second: list[int] = []
    bare_network: list[tuple[float, float, int, float]] = []
    bare_startup: list[tuple[float, float, int, float]] = []
    python = comunicast_python()
    all_urls = [url for urls in url_lists for url in urls]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, drafts, url_lists, online=True)
        cmd = [*comunicast_exe(), "check", "--online", "--format", "json"]
        run_command([*comunicast_exe(), "check", "--format", "json"], root)  # warm .pyc and the OS cache
        for _round in range(args.runs):
            shutil.rmtree(root / ".comunicast", ignore_errors=True)  # an empty cache
            origins.requests = 0
            firsts.append(run_command(cmd, root))
            requests_first.append(origins.requests)
            origins.requests = 0
            seconds.append(run_command(cmd, root))
            requests_second.append(origins.requests)
            (root / "urls.txt").write_text("\n".join(all_urls), encoding="utf-8")
            bare_network.append(run_command([python, "-c", _BARE_NETWORK, "urls.txt"], root))
            bare_startup.append(run_command(
                [python, "-c", "import typer, comunicast.config"], root))
        if args.keep:
            keep = Path(args.keep)
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(root, keep)
    origins.stop()
    print(f"online: {args.urls} URLs over {args.origins} origins answering after "
          f"{args.delay * 1000:.0f} ms, {drafts} drafts, {args.runs} rounds")
    for name, runs, requests in (("first run ", firsts, requests_first),
                                 ("second run", seconds, requests_second)):
        walls = sorted(r[0] for r in runs)
        median = walls[len(walls) // 2]
        print(f"  {name}: median {median:.2f} s (min {walls[0]:.2f}, max {walls[-1]:.2f}), "
              f"CPU {statistics.median(r[3] for r in runs):.2f} s, peak "
              f"{max(r[1] for r in runs):.0f} MB, requests per run {sorted(set(requests))}, "
              f"exit codes {sorted({r[2] for r in runs})}")
    for name, runs in (("bare network", bare_network), ("bare start-up", bare_startup)):
        walls = sorted(r[0] for r in runs)
        print(f"  floor, {name}: median {walls[len(walls) // 2]:.2f} s (min {walls[0]:.2f}, "
              f"max {walls[-1]:.2f}), exit codes {sorted({r[2] for r in runs})}")


#: The "bare network" floor: import what the network phase needs, ask every URL, nothing else.
_BARE_NETWORK = """
import sys
urls = open(sys.argv[1], encoding="utf-8").read().split()
import asyncio, aiohttp
from comunicast.linkcheck import _run
results = asyncio.run(_run(urls, timeout=10.0, per_host=4, concurrency=40, agent="bench",
                           progress=None))
sys.exit(0 if len(results) == len(urls) and all(r.status == 200 for r in results) else 1)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--online", action="store_true")
    parser.add_argument("--urls", type=int, default=500)
    parser.add_argument("--origins", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--keep", help="copy the generated project here (to profile it)")
    parser.add_argument("--workers", help="COMUNICAST_WORKERS for the command (1: no fork)")
    args = parser.parse_args()
    global WORKERS
    WORKERS = args.workers
    if args.online:
        online(args)
    else:
        offline(args)


if __name__ == "__main__":
    main()
