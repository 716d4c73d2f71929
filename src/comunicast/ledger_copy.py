"""`comunicast ledger copy`: one ledger's rows into another (SQLite → PostgreSQL, and back).

Generic over `comunicast.ledger.COPY_TABLES`: every table listed there is copied, parents first,
ids kept (so every foreign key stays right without remapping). A row the target already has
with the same values is not copied again, so a second run copies nothing. A "record" row the
target holds with other values means the target is another history of this project: the copy
refuses it and writes nothing (one transaction). "cache" rows already there stay as they are.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from comunicast.errors import ConfigError
from comunicast.i18n import _
from comunicast.ledger import COPY_TABLES, Ledger


@dataclass(frozen=True)
class TableCopy:
    """What the copy did to one table."""

    table: str
    copied: int
    already: int

    def to_json(self) -> dict[str, Any]:
        """For `--format json`."""
        return {"table": self.table, "copied": self.copied, "already_there": self.already}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, memoryview | bytearray):
        a = bytes(a)
    if isinstance(b, memoryview | bytearray):
        b = bytes(b)
    return bool(a == b)


def copy_ledger(source: Ledger, target: Ledger) -> list[TableCopy]:
    """Copy every listed table of `source` into `target` (both migrated to the same list)."""
    have_source = source.engine.tables()
    have_target = target.engine.tables()
    report: list[TableCopy] = []
    try:
        with target.transaction() as conn:
            for table, key, kind in COPY_TABLES:
                if table not in have_source:
                    continue
                if table not in have_target:
                    raise ConfigError(
                        _("the target ledger has no table {table}").format(table=table),
                        hint=_("run the same version of comunicast on both ledgers"),
                    )
                rows = source.conn.execute(f"SELECT * FROM {table}").fetchall()
                there = {
                    tuple(r[c] for c in key): r
                    for r in conn.execute(f"SELECT * FROM {table}").fetchall()
                }
                missing = []
                for row in rows:
                    found = there.get(tuple(row[c] for c in key))
                    if found is None:
                        missing.append(row)
                    elif kind == "record" and not all(
                        _same(row[c], found[c]) for c in row.keys()  # noqa: SIM118 - a Row iterates values
                    ):
                        raise ConfigError(
                            _("the target already holds this project with other rows "
                              "({table} {key} differs); nothing was copied").format(
                                table=table, key=", ".join(str(row[c]) for c in key)),
                            hint=_("copy into an empty database or another project "
                                   "(--project), or remove the target's rows first"),
                        )
                if missing:
                    columns = list(missing[0].keys())
                    conn.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)})"
                        f" VALUES ({', '.join('?' * len(columns))})",
                        [tuple(r[c] for c in columns) for r in missing],
                    )
                    if key == ("id",):
                        target.engine.after_copy(table, "id")
                report.append(TableCopy(table, len(missing), len(rows) - len(missing)))
    except sqlite3.IntegrityError as exc:
        raise ConfigError(
            _("the target already holds this project with other rows ({reason}); nothing was "
              "copied").format(reason=" ".join(str(exc).split())),
            hint=_("copy into an empty database or another project (--project), or remove "
                   "the target's rows first"),
        ) from None
    return report
