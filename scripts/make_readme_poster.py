#!/usr/bin/env python3
"""Regenerate the README's poster image and terminal code from the repository's comunicast.yaml.

Usage: python scripts/make_readme_poster.py

Runs the real command (`comunicast qr --out poster.png`, A4 at 300 dpi, verified by decoding),
scales the result to 1240 px wide (150 dpi) for docs/poster-a4.png, checks that the smaller image
still scans, and captures `comunicast qr` (the terminal code) in docs/qr-terminal.txt.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from comunicast.poster.qr import decode

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "comunicast.yaml"
DOCS = ROOT / "docs"
WIDTH = 1240


def _comunicast(*args: str, cwd: Path) -> str:
    exe = Path(sys.executable).parent / "comunicast"
    command = [str(exe)] if exe.exists() else [shutil.which("comunicast") or "comunicast"]
    done = subprocess.run(
        [*command, "--config", str(CONFIG), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        report = _comunicast("qr", "--out", "poster.png", "--paper", "a4", cwd=work)
        with Image.open(work / "poster.png") as poster:
            url = decode(poster)[0]
            height = round(poster.height * WIDTH / poster.width)
            small = poster.convert("RGB").resize((WIDTH, height), Image.Resampling.LANCZOS)
    if decode(small) != [url]:
        print("the scaled poster does not scan", file=sys.stderr)
        return 1
    small.save(DOCS / "poster-a4.png", dpi=(150, 150), optimize=True)
    terminal = _comunicast("qr", cwd=ROOT)
    (DOCS / "qr-terminal.txt").write_text(terminal, encoding="utf-8")
    print(report.strip())
    print(f"wrote {DOCS / 'poster-a4.png'} ({WIDTH}×{height}) and {DOCS / 'qr-terminal.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
