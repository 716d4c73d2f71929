#!/usr/bin/env python3
"""Median wall time of `comunicast --version` and `--help`, next to `python -c "import typer"`.

Usage: python benchmarks/startup.py [--runs 30]
Targets (2-core machine): --version ≤ 150 ms, --help ≤ 250 ms. Also lists heavy modules that leak
onto these paths (httpx, PIL, qrcode, reportlab, markdown_it, pydantic...).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from _common import comunicast_exe

HEAVY = ("httpx", "aiohttp", "PIL", "qrcode", "reportlab", "markdown_it", "pypdfium2", "zxingcpp", "yaml")



def median_ms(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, capture_output=True, check=True)  # warm the OS cache and .pyc files
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def heavy_imports(args: list[str]) -> list[str]:
    code = (
        "import sys\nfrom comunicast.cli.app import main\n"
        f"sys.argv=['comunicast', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    lines = out.stderr.strip().splitlines()
    return [m for m in lines[-1].split(",") if m] if lines else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    rows = [
        ('python -c "import typer"', [sys.executable, "-c", "import typer"], None),
        ("comunicast --version", [*comunicast_exe(), "--version"], 150.0),
        ("comunicast --help", [*comunicast_exe(), "--help"], 250.0),
    ]
    print(f"median of {runs} runs, {sys.platform}, Python {sys.version.split()[0]}")
    for label, cmd, target in rows:
        ms = median_ms(cmd, runs)
        verdict = "" if target is None else (" ok" if ms <= target else " OVER TARGET")
        goal = "" if target is None else f" (target ≤ {target:.0f} ms)"
        print(f"{label:28} {ms:7.1f} ms{goal}{verdict}")
    for args in (["--version"], ["--help"]):
        leaked = heavy_imports(args)
        print(f"heavy modules imported by {' '.join(args)}: {', '.join(leaked) or 'none'}")


if __name__ == "__main__":
    main()
