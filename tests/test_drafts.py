"""Drafts: both formats, every field, positions, and a clear located error for every bad input."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import run_cli, write

from comunicast.drafts import Kind, load_draft, load_drafts
from comunicast.errors import DraftError

ROME = ZoneInfo("Europe/Rome")

GOOD_MD = """\
---
title: Ponte sul Po chiuso dal 2 al 5 dicembre
kind: avviso
publish_at: 2026-12-01 08:00
image: ponte.jpg
image_alt: Mappa dei percorsi alternativi
---
Il **ponte sul Po** resta chiuso dal 2 al 5 dicembre per lavori.

Percorsi alternativi: https://www.comune.cremona.it/viabilita
"""


def test_markdown_draft_fields_and_positions(tmp_path: Path) -> None:
    path = write(tmp_path / "2026-12-01-ponte.md", GOOD_MD)
    draft = load_draft(path, ROME)
    assert draft.id == "2026-12-01-ponte"
    assert draft.kind is Kind.AVVISO
    assert draft.publish_at == datetime(2026, 12, 1, 8, 0, tzinfo=ROME)
    assert draft.image == tmp_path / "ponte.jpg"
    assert draft.body.startswith("Il **ponte sul Po**")
    assert draft.field_place("kind") == (3, 7)
    assert draft.field_place("image_alt") == (6, 12)
    # body line 0 is file line 8; "https" on body line 2 at column 22 → file 10:23
    assert draft.body_place(0, 0) == (8, 1)
    assert draft.body_place(2, 22) == (10, 23)


def test_yaml_draft_with_literal_block_maps_positions(tmp_path: Path) -> None:
    path = write(
        tmp_path / "draft.yaml",
        """
        id: mercatino-2026
        title: Mercatino di Natale
        kind: event
        starts_at: 2026-12-08 10:00
        ends_at: 08/12/2026 19:00
        where: Piazza del Comune
        senders: archivio, console
        text: |
          Torna il **mercatino** in piazza.
          Info: https://www.comune.cremona.it/natale
        """,
    )
    draft = load_draft(path, ROME)
    assert draft.id == "mercatino-2026"
    assert draft.kind is Kind.EVENTO
    assert draft.ends_at == datetime(2026, 12, 8, 19, 0, tzinfo=ROME)
    assert draft.senders == ["archivio", "console"]
    assert draft.body.splitlines()[1].startswith("Info:")
    assert draft.body_place(1, 6) == (10, 9)
    assert draft.source.splitlines()[9][8:13] == "https"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("news", Kind.NOTIZIA),
        ("SERVIZIO", Kind.SERVIZIO),
        ("emergency", Kind.EMERGENZA),
        ("notice", Kind.AVVISO),
    ],
)
def test_kind_synonyms(tmp_path: Path, kind: str, expected: Kind) -> None:
    path = write(tmp_path / "a.md", f"---\ntitle: T\nkind: {kind}\n---\ntesto\n")
    assert load_draft(path, ROME).kind is expected


def test_deadline_date_and_aware_datetimes(tmp_path: Path) -> None:
    path = write(
        tmp_path / "tari.md",
        "---\ntitle: TARI\nkind: scadenza\ndeadline: 2026-12-16\n"
        "publish_at: 2026-12-10T09:00:00+01:00\n---\nPaga la rata.\n",
    )
    draft = load_draft(path, ROME)
    assert draft.deadline == date(2026, 12, 16)
    assert draft.deadline_at is not None and draft.deadline_at.hour == 23
    assert draft.publish_at is not None and draft.publish_at.utcoffset().total_seconds() == 3600


def _error(path: Path) -> DraftError:
    with pytest.raises(DraftError) as err:
        load_draft(path, ROME)
    return err.value


BAD_DRAFTS: dict[str, tuple[bytes, str, int]] = {
    # name: (content, text the message must contain, line)
    "broken-yaml.md": (b"---\ntitle: [unclosed\nkind: avviso\n---\nx\n", "invalid YAML", 3),
    "missing-title.md": (b"---\nkind: avviso\n---\ntesto\n", "missing required key 'title'", 2),
    "unknown-field.md": (
        b"---\ntitle: T\nkind: avviso\npublsh_at: 2026-12-01\n---\nx\n",
        "unknown key 'publsh_at'",
        4,
    ),
    "wrong-type.md": (
        b"---\ntitle: T\nkind: avviso\npublish_at: domani\n---\nx\n",
        "'domani' is not a date",
        4,
    ),
    "bad-kind.md": (b"---\ntitle: T\nkind: festa\n---\nx\n", "'kind'", 3),
    "scadenza-no-deadline.md": (b"---\ntitle: T\nkind: scadenza\n---\nx\n", "needs a deadline", 3),
    "evento-no-start.md": (b"---\ntitle: T\nkind: evento\n---\nx\n", "needs starts_at", 3),
    "not-utf8.md": (b"---\ntitle: Citt\xe0\nkind: avviso\n---\nx\n", "not UTF-8", 2),
    "binary.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file", 3),
    # Notepad's "Unicode": UTF-16 with a BOM; not binary, just the wrong encoding.
    "utf16.md": ("---\ntitle: Città\nkind: avviso\n---\nx\n".encode("utf-16"), "UTF-16", 1),
    "empty.md": (b"  \n\n", "empty file", 1),
    "no-front-matter.md": (b"Solo testo, niente campi.\n", "no front matter", 1),
    "unclosed-front.md": (b"---\ntitle: T\nkind: avviso\n", "not closed", 1),
    "python-tag.md": (
        b"---\ntitle: !!python/object/apply:os.system ['echo x']\nkind: avviso\n---\nx\n",
        "unsupported YAML tag",
        2,
    ),
    "alias-bomb.yaml": (
        (
            b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\ntitle: T\nkind: avviso\ntext: x\n"
        ),
        "too many aliases",
        5,
    ),
    "yaml-no-text.yaml": (b"title: T\nkind: avviso\n", "missing `text:`", 1),
    "list.yaml": (b"- title: T\n- kind: avviso\n", "must be a map", 1),
}


@pytest.mark.parametrize("name", sorted(BAD_DRAFTS))
def test_bad_drafts_are_located(tmp_path: Path, name: str) -> None:
    content, needle, line = BAD_DRAFTS[name]
    path = tmp_path / name
    path.write_bytes(content)
    error = _error(path)
    assert error.exit_code == 1
    assert needle in str(error), str(error)
    assert str(error).startswith(f"{path}:{line}"), str(error)


def test_file_over_one_mib(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.write_bytes(b"---\ntitle: T\nkind: avviso\n---\n" + b"parola " * 200_000)
    error = _error(path)
    assert "1 MiB" in str(error) and str(error).startswith(str(path))


def test_folder_of_100_with_one_broken_still_loads_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "messages"
    for i in range(100):
        write(folder / f"d{i:03}.md", f"---\ntitle: Avviso {i}\nkind: avviso\n---\nTesto {i}.\n")
    (folder / "d050.md").write_bytes(b"---\ntitle: [\nkind: avviso\n---\nx\n")
    (folder / "foto.jpg").write_bytes(b"\xff\xd8\xff")  # not a draft: ignored
    (folder / "note.txt").write_text("appunti")
    result = load_drafts([folder], ROME)
    assert len(result.drafts) == 99
    assert [e.path.name for e in result.errors] == ["d050.md"]


def test_duplicate_ids_are_reported_on_the_later_file(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "---\nid: same\ntitle: A\nkind: avviso\n---\nx\n")
    write(tmp_path / "b.md", "---\nid: same\ntitle: B\nkind: avviso\n---\nx\n")
    result = load_drafts([tmp_path], ROME)
    assert [d.path.name for d in result.drafts] == ["a.md"]
    assert "also used by" in str(result.errors[0]) and str(result.errors[0]).startswith(
        f"{tmp_path / 'b.md'}:2:5"
    )


@pytest.mark.parametrize(
    "name", ["broken-yaml.md", "binary.md", "unknown-field.md", "alias-bomb.yaml"]
)
def test_cli_reports_bad_draft_with_file_line_and_exit_1(project: Path, name: str) -> None:
    content, needle, line = BAD_DRAFTS[name]
    path = project / "messages" / name
    path.write_bytes(content)
    result = run_cli(["preview", f"messages/{name}"], cwd=project)
    assert result.returncode == 1, result.stderr
    assert f"messages/{name}:{line}" in result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("front", "place", "advice"),
    [
        ("title: Avviso: chiusura del ponte\nkind: avviso\n", (2, 14), 'title: "Avviso: chiusura'),
        ("title: Avviso\nkind: avviso\n\tpublish_at: 2026-12-01\n", (4, 1), "spaces, not tabs"),
        ('title: "Avviso\nkind: avviso\n', (4, 1), "quote"),
    ],
)
def test_common_yaml_mistakes_say_what_to_do(
    tmp_path: Path, front: str, place: tuple[int, int], advice: str
) -> None:
    path = tmp_path / "bozza.md"
    path.write_text(f"---\n{front}---\nUn testo.\n", encoding="utf-8")
    with pytest.raises(DraftError) as err:
        load_draft(path, ZoneInfo("Europe/Rome"))
    problem = err.value.problems[0]
    assert (problem.line, problem.column) == place, problem
    assert advice in problem.message + (problem.hint or "")


def test_preview_takes_a_draft_id_like_publish_and_resolve(project: Path) -> None:
    write(project / "messages" / "ponte.md", "---\ntitle: Ponte\nkind: avviso\n---\nChiuso.\n")
    write(project / "messages" / "x.md", "---\nid: altro\ntitle: Altro\nkind: avviso\n---\nAperto.\n")
    (project / "sub").mkdir()
    for ref, text in (("ponte", "Chiuso."), ("altro", "Aperto.")):
        result = run_cli(["preview", ref, "--target", "plain"], cwd=project / "sub")
        assert result.returncode == 0, result.stderr
        assert result.stdout.rstrip("\n").endswith(text)
    result = run_cli(["preview", "nessuno"], cwd=project)
    assert result.returncode == 3 and "nessuno" in result.stderr
