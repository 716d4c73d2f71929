#!/usr/bin/env python3
"""Wall time of the whole `comunicast qr --out poster.pdf` and `--out poster.png` commands (A4).

Usage:
  python benchmarks/qr.py [--runs 10] [--logo]

Each run is a fresh process of the installed console script, in a temporary project: Python
start-up, imports, layout, rendering, writing, and the decoding check of the written file.
Targets on a 2-core machine, median of >= 10 runs: PDF <= 0.8 s, PNG <= 1.2 s; the A4 PDF
<= 200 KB. The child's CPU time (user + sys) is printed too: the command is single-threaded, so
on a busy machine it tells what the wall time would be on an idle one.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import comunicast_exe

CONFIG = """\
organization:
  name: Comune di Cremona
  color: "#003366"
{logo}channel:
  invite_url: https://whatsapp.com/channel/0029VaBenchBenchBench0000
"""
TARGETS = {"pdf": 0.8, "png": 1.2}
PDF_LIMIT = 200 * 1024



def _project(root: Path, logo: bool) -> None:
    line = ""
    if logo:
        from PIL import Image, ImageDraw

        image = Image.new("RGBA", (800, 1000), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        draw.polygon(
            [(40, 40), (760, 40), (760, 600), (400, 960), (40, 600)], fill=(200, 30, 30, 255)
        )
        image.save(root / "stemma.png")
        line = "  logo: stemma.png\n"
    (root / "comunicast.yaml").write_text(CONFIG.format(logo=line), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--logo", action="store_true", help="with a PNG logo in the header band")
    args = parser.parse_args()
    ok = True
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _project(root, args.logo)
        for fmt in ("pdf", "png"):
            out = root / f"poster.{fmt}"
            times, cpu = [], []
            for _ in range(args.runs):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run(
                    [*comunicast_exe(), "qr", "--out", out.name], cwd=root, check=True, capture_output=True
                )
                times.append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            median = statistics.median(times)
            size = out.stat().st_size
            passed = median <= TARGETS[fmt] and (fmt != "pdf" or size <= PDF_LIMIT)
            ok &= passed
            print(
                f"qr --out poster.{fmt} (A4): median {median:.3f} s over {args.runs} runs "
                f"(min {min(times):.3f}, max {max(times):.3f}); target <= {TARGETS[fmt]} s; "
                f"CPU median {statistics.median(cpu):.3f} s; file {size / 1024:.0f} KB"
                + ("" if passed else "  << MISSED")
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
