"""Shared fixtures: tests never touch the user's real environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MINIMAL_CONFIG = """\
organization:
  name: Comune di Cremona
  website: https://www.comune.cremona.it
channel:
  invite_url: https://whatsapp.com/channel/0029VaTestTestTestTest00
timezone: Europe/Rome
links:
  allowed_domains: [comune.cremona.it, cremona.it]
privacy:
  allow: ["0372 407111", "urp@comune.cremona.it"]
senders:
  console:
    adapter: console
default_senders: [console]
"""


def pytest_configure(config: pytest.Config) -> None:
    """Compile the catalogs whose .po changed since the last build, so tests see the current text.

    The package reads `locale/*/LC_MESSAGES/comunicast.mo`, a build product (hatch_build.py); an
    editable install reads it from src/, where a translator edits the .po without reinstalling.
    Every process (xdist workers too) may do this: the file is replaced atomically.
    """
    locale = Path(__file__).resolve().parent.parent / "src" / "comunicast" / "locale"
    for po in locale.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime_ns >= po.stat().st_mtime_ns:
            continue
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as fh:
            catalog = read_po(fh)
        partial = mo.with_name(f"{mo.name}.{os.getpid()}.tmp")
        with partial.open("wb") as fh:
            write_mo(fh, catalog)
        partial.replace(mo)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's config, state, clock or terminal settings."""
    for var in ("COMUNICAST_CONFIG", "COMUNICAST_STATE_DIR", "COMUNICAST_NOW", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # Existing assertions are in English; a test that wants Italian sets COMUNICAST_LANG itself.
    monkeypatch.setenv("COMUNICAST_LANG", "en")
    from comunicast import i18n

    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A minimal project folder (comunicast.yaml + messages/) as the current folder."""
    root = tmp_path / "project"
    (root / "messages").mkdir(parents=True)
    (root / "comunicast.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def write(path: Path, text: str) -> Path:
    """Write dedented UTF-8 text, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def comunicast_exe() -> list[str]:
    """The installed `comunicast` console script (or `python -m comunicast` beside this Python)."""
    exe = Path(sys.executable).parent / "comunicast"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("comunicast")
    return [found] if found else [sys.executable, "-m", "comunicast"]


def run_cli(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI in a subprocess, as a user (or cron) would."""
    full_env = {k: v for k, v in os.environ.items() if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    full_env.update(env or {})
    return subprocess.run(
        [*comunicast_exe(), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@contextmanager
def immutable(folder: Path) -> Iterator[None]:
    """Make `folder` unwritable even for root (chattr +i); skip where that is not possible."""
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr is not available")
    done = subprocess.run([chattr, "+i", str(folder)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("this file system or user cannot set the immutable flag")
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("the immutable flag does not stop writes here")
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], capture_output=True, check=False)


# -- a private PostgreSQL (SPEC §11) -----------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One private PostgreSQL per test session (per xdist worker), stopped at the end."""
    from pg_support import start_server

    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing_postgres("psycopg is not installed (pip install -e '.[test]')")
    try:
        server = start_server()
    except (FileNotFoundError, RuntimeError) as exc:
        _missing_postgres(str(exc))
    try:
        yield server
    finally:
        server.stop()


def _missing_postgres(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs PostgreSQL for the ledger's tests: {reason}")
    pytest.skip(f"no PostgreSQL here: {reason}")


@pytest.fixture
def pg_url(pg_server: object) -> Iterator[str]:
    """The URL (with its password) of a fresh database on the private server."""
    url = pg_server.create_database()  # type: ignore[attr-defined]
    try:
        yield url
    finally:
        pg_server.drop_database(url)  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_at(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """Where a test's ledger lives, once per engine: a SQLite file, or a project in PostgreSQL."""
    if request.param == "sqlite":
        return tmp_path / "state" / "ledger.sqlite3"
    from comunicast.state import PostgresLocation

    url = request.getfixturevalue("pg_url")
    return PostgresLocation(url, "comune-di-cremona")
