"""A real, private PostgreSQL for the tests: `initdb` + `pg_ctl` into a temporary folder.

One server per test session (per xdist worker), listening on 127.0.0.1 on a free port, run as
the `postgres` system user when the tests run as root (PostgreSQL refuses to run as root), with
password authentication over TCP so the URLs carry a password like a real deployment's. Each
test gets a fresh database. Missing binaries: the tests that need them skip, or fail when
CI=true (`.ci/run` installs Debian's `postgresql` package).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "comunicast"
PASSWORD = "pg-test-Secret-7f3a91"


def find_bin_dir() -> Path | None:
    """The folder holding `initdb` and `pg_ctl` (the newest Debian version first)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name or 0), reverse=True)
    return Path(versions[0]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running private server."""

    bin_dir: Path
    root: Path
    port: int
    as_user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", *, password: str | None = PASSWORD) -> str:
        auth = f"{SUPERUSER}:{password}" if password is not None else SUPERUSER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.as_user, "--"] if self.as_user else []
        return [*prefix, *args]

    def admin(self) -> object:
        import psycopg

        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self) -> str:
        """A fresh database; returns its URL (with the password)."""
        name = "t_" + uuid.uuid4().hex[:16]
        with self.admin() as conn:  # type: ignore[attr-defined]
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        try:
            with self.admin() as conn:  # type: ignore[attr-defined]
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except Exception:  # noqa: BLE001, S110 - the whole server goes at the end anyway
            pass

    def stop(self) -> None:
        subprocess.run(self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m",
                                 "immediate", "-w", "stop"),
                       capture_output=True, check=False, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def start_server(*, fsync: bool = False) -> PgServer:
    """initdb + pg_ctl start into a new temporary folder; raises RuntimeError if it cannot."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL's initdb/pg_ctl not found")
    as_user = None
    if os.geteuid() == 0:
        as_user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="comunicast-pg-"))
    os.chmod(root, 0o755)
    if as_user:
        shutil.chown(root, user=as_user)
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        shutil.chown(pwfile, user=as_user)
    server = PgServer(bin_dir, root, 0, as_user)
    init = subprocess.run(
        server._cmd(str(bin_dir / "initdb"), "-D", str(server.data), "-U", SUPERUSER,
                    f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                    "-E", "UTF8", "--locale=C", "--no-sync"),
        capture_output=True, text=True, check=False, timeout=120,
    )
    if init.returncode:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr or init.stdout}")
    last = ""
    for _attempt in range(5):
        server.port = _free_port()
        options = (f"-p {server.port} -c listen_addresses=127.0.0.1 -k {root} "
                   f"-c fsync={'on' if fsync else 'off'} -c max_connections=200 "
                   "-c shared_buffers=32MB")
        start = subprocess.run(
            server._cmd(str(bin_dir / "pg_ctl"), "-D", str(server.data), "-o", options,
                        "-l", str(root / "log"), "-w", "-t", "60", "start"),
            capture_output=True, text=True, check=False, timeout=90,
        )
        if start.returncode == 0:
            return server
        last = start.stderr + start.stdout
        try:
            last += (root / "log").read_text()
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"pg_ctl start failed: {last}")
