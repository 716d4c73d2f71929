"""Where the ledger lives: the SQLite file of §2, or a project in a PostgreSQL database (§11).

Light on purpose (no driver imported): `comunicast.config` builds a location, and only opening
the ledger (`comunicast.ledger`) connects.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from comunicast.errors import ConfigError
from comunicast.i18n import _

#: The SQLite ledger's file name, in the state folder.
SQLITE_LEDGER = "ledger.sqlite3"


def state_dir_for(root: Path) -> Path:
    """The state folder of the project at `root`: `.comunicast/` beside comunicast.yaml, or
    COMUNICAST_STATE_DIR."""
    override = os.environ.get("COMUNICAST_STATE_DIR")
    return Path(override) if override else root / ".comunicast"

#: A project name: it names a PostgreSQL schema, so it stays short and plain.
PROJECT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
POSTGRES_SCHEMES = ("postgresql", "postgres")
MASK = "***"


def is_postgres_url(value: str) -> bool:
    """True for a `postgresql://…` (or `postgres://…`) URL."""
    return value.split(":", 1)[0].lower() in POSTGRES_SCHEMES and "://" in value


def mask_url(url: str) -> str:
    """`url` with its password (if any) shown as `***`."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return MASK
    if "@" not in netloc:
        return url
    userinfo, host = netloc.rsplit("@", 1)
    if ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":" + MASK
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def check_project(project: str) -> str:
    """`project` if it is a usable project name, else a ConfigError."""
    if not PROJECT_PATTERN.match(project) or project.startswith("pg_") \
            or project == "information_schema":
        raise ConfigError(
            _("'{project}' is not a usable project name").format(project=project),
            hint=_("use lowercase letters, digits, '-' and '_' (at most 63), e.g. "
                   "comune-di-cremona"),
        )
    return project


@dataclass(frozen=True)
class PostgresLocation:
    """One project's ledger in a PostgreSQL database: a schema named after the project.

    `url` is kept as written (`${VAR}` not yet read from the environment), so a missing
    password only matters to the commands that open the ledger, and the text never holds it.
    """

    url: str
    project: str

    def __str__(self) -> str:
        return f"{mask_url(self.url)} (project {self.project})"

    def __repr__(self) -> str:
        return f"PostgresLocation({mask_url(self.url)!r}, project={self.project!r})"

    def is_file(self) -> bool:
        """Callers that ask whether the SQLite file exists: a database may always hold one."""
        return True

    def exists(self) -> bool:
        """As `is_file`: whether the ledger exists is the database's to say, when opened."""
        return True

    def resolved_url(self) -> str:
        """The URL with `${VAR}` read from the environment (a missing one: ConfigError)."""
        from comunicast.config import resolve_env

        value = resolve_env(self.url, where="state.url")
        assert isinstance(value, str)
        return value

    def lock_key(self, *parts: str) -> int:
        """A signed 64-bit advisory-lock key for `parts` within this project."""
        return advisory_key("comunicast", self.project, *parts)


def advisory_key(*parts: str) -> int:
    """A signed 64-bit key (PostgreSQL's `bigint`) from text parts, stable across hosts."""
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


#: The SQLite file, or a project in PostgreSQL.
LedgerLocation = Path | PostgresLocation

__all__ = ["LedgerLocation", "PostgresLocation", "check_project", "is_postgres_url", "mask_url"]
