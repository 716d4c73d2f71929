"""What the benchmark scripts share: how to run the installed `comunicast` command."""

from __future__ import annotations

import compileall
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_compiled = False


def comunicast_exe() -> list[str]:
    """The `comunicast` console script beside this Python (else on PATH, else `python -m`).

    comunicast's own modules are byte-compiled first, as `pip install` does for an installed
    package: in an editable checkout with PYTHONDONTWRITEBYTECODE set (some shells and CI
    images set it) every run would otherwise compile ~100 modules from source, 50–100 ms that
    no user pays.
    """
    global _compiled
    if not _compiled:
        compileall.compile_dir(ROOT / "src" / "comunicast", quiet=1)
        _compiled = True
    script = Path(sys.executable).parent / "comunicast"
    if script.exists():
        return [str(script)]
    found = shutil.which("comunicast")
    return [found] if found else [sys.executable, "-m", "comunicast"]
