"""The Italian catalog is complete: every string of src/ has a real translation (SPEC §7)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("update_catalog", ROOT / "scripts/update_catalog.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["update_catalog"] = module
    spec.loader.exec_module(module)
    return module


catalog_tool = _tool()


def test_every_translatable_string_has_an_italian_translation() -> None:
    found = catalog_tool.problems("it")
    assert not found, (
        "the Italian catalog is incomplete; run `python scripts/update_catalog.py`, translate the "
        "empty entries of src/comunicast/locale/it/LC_MESSAGES/comunicast.po (docs/glossario.md), "
        "and see the README's Development section:\n" + "\n".join(found)
    )


def test_the_extractor_finds_every_kind_of_marker() -> None:
    wanted = catalog_tool.extract()
    assert "Show a traceback on errors." in wanted  # a typer help text: _()
    assert "Options" in wanted  # the framework's words: N_()
    assert any(isinstance(k, tuple) and k[0] == "{n} file checked" for k in wanted)  # ngettext


HEADER = catalog_tool.HEADER.format(name="Italian", language="it")


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ('msgid "Check {path}"\nmsgstr "Controlla {path}"\n', None),
        ("", "missing: 'Check {path}'"),
        ('msgid "Check {path}"\nmsgstr ""\n', "not translated"),
        ('#, fuzzy\nmsgid "Check {path}"\nmsgstr "Controlla {path}"\n', "fuzzy"),
        ('msgid "Check {path}"\nmsgstr "Controlla {percorso}"\n', "placeholders differ"),
        ('msgid "Check {path}"\nmsgstr "Controlla"\n', "placeholders differ"),
        (
            'msgid "Check {path}"\nmsgstr "Controlla {path}"\n\nmsgid "Check {path}"\nmsgstr "Verifica {path}"\n',
            "duplicate entry",
        ),
        ('msgid "Check {path}"\nmsgstr "Controlla {path}"\n\n#~ msgid "Old"\n#~ msgstr "Vecchio"\n', "obsolete"),
        ('msgid "Check {path}"\nmsgstr "Controlla {path}"\n\nmsgid "Gone"\nmsgstr "Andato"\n', "unused entry"),
    ],
)
def test_the_catalog_check_fails_on_each_kind_of_problem(
    tmp_path: Path, entries: str, problem: str | None
) -> None:
    po = tmp_path / "comunicast.po"
    po.write_text(HEADER + entries, encoding="utf-8")
    found = catalog_tool.problems("it", po, {"Check {path}": ["src/x.py:1"]})
    if problem is None:
        assert found == []
    else:
        assert any(problem in line for line in found), found


def test_plural_entries_need_every_form(tmp_path: Path) -> None:
    po = tmp_path / "comunicast.po"
    key = ("{n} draft", "{n} drafts")
    po.write_text(
        HEADER + 'msgid "{n} draft"\nmsgid_plural "{n} drafts"\nmsgstr[0] "{n} bozza"\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    assert any("not translated" in p for p in catalog_tool.problems("it", po, {key: ["x:1"]}))
    po.write_text(
        HEADER
        + 'msgid "{n} draft"\nmsgid_plural "{n} drafts"\nmsgstr[0] "una bozza"\nmsgstr[1] "{n} bozze"\n',
        encoding="utf-8",
    )
    assert catalog_tool.problems("it", po, {key: ["x:1"]}) == []


def test_the_compiled_catalog_is_current() -> None:
    """conftest recompiles a .po edited after installing; the package reads that .mo."""
    po = catalog_tool.po_path("it")
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime_ns >= po.stat().st_mtime_ns


def test_no_translation_call_hides_inside_an_f_string() -> None:
    """Babel's extractor cannot see `f"{_('x')}"`: such a string would never reach the catalog."""
    import ast

    hidden = []
    for path in sorted((ROOT / "src" / "comunicast").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in ("_", "N_", "ngettext")
                    and inner.args
                    and isinstance(inner.args[0], ast.Constant)
                ):
                    hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert not hidden, "write _('…') outside the f-string: " + ", ".join(hidden)


def test_a_wheel_built_from_the_sources_carries_the_compiled_catalog(tmp_path: Path) -> None:
    """`pip install .` from a clean clone speaks Italian: the build hook compiles the .po."""
    import gettext
    import io
    import os
    import shutil
    import subprocess
    import zipfile

    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs git and a checkout to build the wheel from its tracked files")
        pytest.skip("not a git checkout")
    tracked = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    source = tmp_path / "src-tree"
    for name in tracked.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file() and not name.endswith(".mo"):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    assert not list(source.rglob("*.mo")), "the compiled catalog must not be committed"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
         str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("comunicast-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read("comunicast/locale/it/LC_MESSAGES/comunicast.mo")
    catalog = gettext.GNUTranslations(io.BytesIO(data))
    assert catalog.gettext("Show this message and exit.") == "Mostra questo aiuto ed esce."
    assert catalog.ngettext("{n} file checked", "{n} files checked", 2) == "{n} file controllati"
