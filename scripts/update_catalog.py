#!/usr/bin/env python3
"""Keep the Italian catalog in step with the code.

    python scripts/update_catalog.py           # add new msgids (empty), drop unused ones, compile
    python scripts/update_catalog.py --check   # list what is missing or wrong; exit 1 if anything

New entries are appended at the end of the .po (the file merges by union, so appending never
conflicts), with an empty msgstr for you to translate (see docs/glossario.md). The catalog test
(tests/test_catalog.py) runs the same checks as `--check`: a string without its translation
fails CI.

Translatable strings are found with Babel's Python extractor in src/: `_("…")`, `N_("…")`
(marked, translated where shown) and `ngettext("…", "…", n)`; and with Jinja2's extractor in
the site's templates (`src/comunicast/site/templates/`).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "comunicast"
LOCALE = SOURCE / "locale"
LANGUAGES = ("it",)
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
#: Written as is at the top of every catalog: no dates or tool versions, so it never changes
#: (the file merges by union; a header line changed on two branches would be kept twice).
HEADER = """\
# {name} translations of comunicast's interface (SPEC §7). Words: docs/glossario.md.
# Add entries with scripts/update_catalog.py; new ones go at the end (the file merges by union).
# This file is distributed under the same licence as comunicast (EUPL-1.2).
#
msgid ""
msgstr ""
"Project-Id-Version: comunicast\\n"
"Language: {language}\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=utf-8\\n"
"Content-Transfer-Encoding: 8bit\\n"

"""
NAMES = {"it": "Italian"}
PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")


def po_path(language: str) -> Path:
    """The catalog of `language`."""
    return LOCALE / language / "LC_MESSAGES" / "comunicast.po"


def extract() -> dict[str | tuple[str, str], list[str]]:
    """Every translatable msgid in src/ (a (singular, plural) pair for ngettext) → its places."""
    from babel.messages.extract import extract_from_file

    found: dict[str | tuple[str, str], list[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for lineno, message, _comments, _context in extract_from_file(
            "python", str(path), keywords=KEYWORDS, comment_tags=(), options={}
        ):
            key: str | tuple[str, str]
            if isinstance(message, tuple):
                if not message[0]:
                    continue
                key = (message[0], message[1])
            else:
                if not message:
                    continue
                key = message
            found.setdefault(key, []).append(f"{path.relative_to(ROOT)}:{lineno}")
    # The site's and the desk's Jinja2 templates call `_()` too (Jinja2's own Babel extractor).
    for path in sorted((SOURCE / "site" / "templates").glob("*")):
        if path.suffix not in (".html", ".xml"):
            continue
        for lineno, message, _comments, _context in extract_from_file(
            "jinja2.ext:babel_extract", str(path), keywords=KEYWORDS, comment_tags=(),
            options={"trim_blocks": "true", "lstrip_blocks": "true"},
        ):
            if message and isinstance(message, str):
                found.setdefault(message, []).append(f"{path.relative_to(ROOT)}:{lineno}")
    # Advice shipped as data and translated where shown (`_(expr.note)` in rules/style.py).
    import yaml

    data = SOURCE / "rules" / "data" / "burocratese.yaml"
    for entry in yaml.safe_load(data.read_text("utf-8")) or []:
        if entry.get("note"):
            found.setdefault(entry["note"], []).append(str(data.relative_to(ROOT)))
    return found


def raw_msgids(path: Path) -> list[str]:
    """The msgids of the .po as written, active entries only (to find duplicates)."""
    ids: list[str] = []
    current: list[str] | None = None
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("msgid "):
            current = [line[6:]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        else:
            if current is not None:
                ids.append("".join(_unquote(part) for part in current))
            current = None
    if current is not None:
        ids.append("".join(_unquote(part) for part in current))
    return [i for i in ids if i]


def _unquote(part: str) -> str:
    import ast

    return str(ast.literal_eval(part.strip()))


def placeholders(text: str) -> set[str]:
    """The `{name}` fields of a message (`{{` escapes excluded)."""
    return {m.split("!")[0].split(":")[0] for m in PLACEHOLDER.findall(text)}


def problems(
    language: str,
    path: Path | None = None,
    wanted: dict[str | tuple[str, str], list[str]] | None = None,
) -> list[str]:
    """Everything wrong with the catalog of `language`, one line each; empty when it is complete.

    `path` and `wanted` (the msgids the code uses) default to the real catalog and src/.
    """
    from babel.messages.pofile import read_po

    path = path or po_path(language)
    if not path.exists():
        return [f"{path} does not exist: run scripts/update_catalog.py"]
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    wanted = extract() if wanted is None else wanted
    out: list[str] = []
    seen: set[str] = set()
    for msgid in raw_msgids(path):
        if msgid in seen:
            out.append(f"duplicate entry: {msgid!r}")
        seen.add(msgid)
    for obsolete in catalog.obsolete:
        out.append(f"obsolete entry (#~): {obsolete!r}")
    singular_ids = {k[0] if isinstance(k, tuple) else k: k for k in wanted}
    for key, places in wanted.items():
        msgid = key[0] if isinstance(key, tuple) else key
        where = places[0]
        message = catalog.get(msgid)
        if message is None:
            out.append(f"missing: {msgid!r} ({where})")
            continue
        if message.fuzzy:
            out.append(f"fuzzy (needs review): {msgid!r} ({where})")
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            out.append(f"not translated: {msgid!r} ({where})")
            continue
        if isinstance(key, tuple) != isinstance(message.id, tuple):
            out.append(f"singular/plural mismatch: {msgid!r} ({where})")
            continue
        expected = placeholders(key[0]) | placeholders(key[1]) if isinstance(key, tuple) else placeholders(key)
        for text in strings:
            if placeholders(text) - expected or (
                not isinstance(key, tuple) and placeholders(text) != expected
            ):
                out.append(
                    f"placeholders differ: {msgid!r} has {sorted(expected)}, "
                    f"translation {text!r} has {sorted(placeholders(text))}"
                )
    for message in catalog:
        if message.id and (message.id[0] if isinstance(message.id, tuple) else message.id) not in singular_ids:
            out.append(f"unused entry (no longer in src/): {message.id!r}")
    return out


def update(language: str) -> tuple[int, int]:
    """Append new msgids, drop unused and obsolete ones; return (added, dropped)."""
    import io

    from babel.messages.pofile import read_po, write_po

    path = po_path(language)
    header = HEADER.format(name=NAMES.get(language, language), language=language)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header, encoding="utf-8")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    wanted = extract()
    ids = {k[0] if isinstance(k, tuple) else k for k in wanted}
    dropped = 0
    for message in list(catalog):
        mid = message.id[0] if isinstance(message.id, tuple) else message.id
        if mid and mid not in ids:
            catalog.delete(message.id)
            dropped += 1
    dropped += len(catalog.obsolete)
    catalog.obsolete.clear()
    added = 0
    for key in wanted:
        mid = key[0] if isinstance(key, tuple) else key
        if catalog.get(mid) is None:
            catalog.add(key, ("", "") if isinstance(key, tuple) else "")
            added += 1
    body = io.BytesIO()
    write_po(body, catalog, width=100, no_location=True, omit_header=True)
    path.write_bytes(header.encode("utf-8") + body.getvalue().lstrip(b"\n"))
    compile_mo(language)
    return added, dropped


def compile_mo(language: str) -> Path:
    """Compile the .po beside itself (for an editable install and the tests; never committed)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = po_path(language)
    mo = path.with_suffix(".mo")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    partial = mo.with_name(f"{mo.name}.{id(catalog)}.tmp")
    with partial.open("wb") as fh:
        write_mo(fh, catalog)
    partial.replace(mo)
    return mo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report problems")
    args = parser.parse_args()
    status = 0
    for language in LANGUAGES:
        if args.check:
            found = problems(language)
            for line in found:
                print(f"{language}: {line}")
            status = status or (1 if found else 0)
        else:
            added, dropped = update(language)
            print(f"{po_path(language).relative_to(ROOT)}: {added} added, {dropped} dropped")
            left = [p for p in problems(language) if not p.startswith("duplicate")]
            if left:
                print(f"{len(left)} entries still need you (run with --check to list them)")
    return status


if __name__ == "__main__":
    sys.exit(main())
