"""Build hook: compile the gettext catalogs (`.po`) into the `.mo` files the package reads.

The `.mo` files are build products, never committed. A wheel gets them from a temporary folder;
an editable install (which imports straight from `src/`) gets them beside their `.po`.
The test suite recompiles a stale `.mo` itself (tests/conftest.py), so an edited `.po` is seen
without reinstalling.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LOCALE = Path("src") / "comunicast" / "locale"


def compile_catalog(po_path: Path, mo_path: Path) -> None:
    """Write the `.mo` of `po_path` (fuzzy entries left out, as gettext does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    partial = mo_path.with_name(mo_path.name + ".tmp")
    with partial.open("wb") as fh:
        write_mo(fh, catalog)
    partial.replace(mo_path)


class CatalogBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compiles every `src/comunicast/locale/*/LC_MESSAGES/*.po` when a wheel is built."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return  # the sdist carries the .po files and this hook
        root = Path(self.root)
        self._scratch: Path | None = None
        for po_path in sorted((root / LOCALE).glob("*/LC_MESSAGES/*.po")):
            relative = po_path.relative_to(root / "src").with_suffix(".mo")
            if version == "editable":
                compile_catalog(po_path, po_path.with_suffix(".mo"))
                continue
            if self._scratch is None:
                self._scratch = Path(tempfile.mkdtemp(prefix="comunicast-mo-"))
            mo_path = self._scratch / relative
            compile_catalog(po_path, mo_path)
            build_data["force_include"][str(mo_path)] = relative.as_posix()

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
