"""What the benchmark scripts share: how to run the installed `comunicast` command."""

from __future__ import annotations

import compileall
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_compiled = False


def comunicast_exe() -> list[str]:
    """The `comunicast` console script beside this Python (else on PATH, else `python -m`), or
    the one COMUNICAST_BENCH_EXE names.

    A user's install is what counts: `python3 -m venv /tmp/u && /tmp/u/bin/pip install .`,
    then `COMUNICAST_BENCH_EXE=/tmp/u/bin/comunicast python benchmarks/publish.py`. The
    development venv also holds the test extras, and one of them costs every `publish`: selenium
    brings trio, which httpcore (beneath httpx) imports whenever it is installed (0.1-0.15 s).

    comunicast's own modules are byte-compiled first, as `pip install` does for an installed
    package: in an editable checkout with PYTHONDONTWRITEBYTECODE set (some shells and CI
    images set it) every run would otherwise compile ~100 modules from source, 50–100 ms that
    no user pays.
    """
    chosen = os.environ.get("COMUNICAST_BENCH_EXE")
    if chosen:
        return [chosen]
    global _compiled
    if not _compiled:
        compileall.compile_dir(ROOT / "src" / "comunicast", quiet=1)
        _compiled = True
    script = Path(sys.executable).parent / "comunicast"
    if script.exists():
        return [str(script)]
    found = shutil.which("comunicast")
    return [found] if found else [sys.executable, "-m", "comunicast"]


def comunicast_python() -> str:
    """The interpreter that runs `comunicast_exe()` (a console script's `#!` line), to measure
    what that interpreter alone costs (the floors of `check.py --online`)."""
    exe = comunicast_exe()
    if len(exe) > 1:
        return exe[0]
    try:
        with open(exe[0], "rb") as script:
            first = script.readline().decode("utf-8", "replace").strip()
    except OSError:
        return sys.executable
    if first.startswith("#!") and "python" in first:
        return first[2:].split()[0]
    return sys.executable
