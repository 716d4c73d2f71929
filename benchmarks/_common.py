"""What the benchmark scripts share: how to run the installed `comunicast` command."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def comunicast_exe() -> list[str]:
    """The `comunicast` console script beside this Python (else on PATH, else `python -m`)."""
    script = Path(sys.executable).parent / "comunicast"
    if script.exists():
        return [str(script)]
    found = shutil.which("comunicast")
    return [found] if found else [sys.executable, "-m", "comunicast"]
