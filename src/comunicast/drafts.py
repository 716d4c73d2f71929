"""Drafts: `.md` with YAML front matter or `.yaml`/`.yml` with `text:`; loaded with source positions.

Loading never prints. Problems are raised as `DraftError` carrying every located `Problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from comunicast.errors import ConfigError, DraftError, Problem, UsageError
from comunicast.i18n import _
from comunicast.yamlpos import Positions, YamlProblem, load, scalar_places

DRAFT_SUFFIXES = (".md", ".yaml", ".yml")
MAX_DRAFT_BYTES = 1 << 20
_FRONT_OPEN = re.compile(r"\A---[ \t]*\r?\n")
_FRONT_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
_IT_DATETIME = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T,]+(\d{1,2})[:.](\d{2}))?\s*$")


class Kind(StrEnum):
    """What a message is about."""

    NOTIZIA = "notizia"
    SERVIZIO = "servizio"
    SCADENZA = "scadenza"
    EVENTO = "evento"
    EMERGENZA = "emergenza"
    AVVISO = "avviso"


KIND_SYNONYMS: dict[str, Kind] = {
    "news": Kind.NOTIZIA,
    "service": Kind.SERVIZIO,
    "deadline": Kind.SCADENZA,
    "event": Kind.EVENTO,
    "emergency": Kind.EMERGENZA,
    "notice": Kind.AVVISO,
}

When = datetime | date


def parse_when(value: Any) -> Any:
    """Accept ISO dates/datetimes and Italian `31/12/2026 08:00`; leave other values to pydantic."""
    if isinstance(value, str):
        text = value.strip()
        match = _IT_DATETIME.match(text)
        if match:
            d, m, y, hh, mm = match.groups()
            try:
                if hh is None:
                    return date(int(y), int(m), int(d))
                return datetime(int(y), int(m), int(d), int(hh), int(mm))
            except ValueError:
                raise ValueError(
                    _("{text!r} is not a valid date: check the day and the month").format(text=text)
                ) from None
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                _(
                    "{text!r} is not a date; write 2026-12-01 or 2026-12-01 08:00 "
                    "(or 01/12/2026 08:00)"
                ).format(text=text)
            ) from None
    return value


class DraftFields(BaseModel):
    """The fields of a draft (front matter of `.md`, top level of `.yaml`)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description="Stable identity; default: the file name without extension",
    )
    title: str = Field(min_length=1, description="Rendered as the bold first line")
    kind: Kind = Field(
        description="notizia | servizio | scadenza | evento | emergenza | avviso "
        "(or news service deadline event emergency notice)"
    )
    publish_at: When | None = Field(default=None, description="When `publish --due` may send it")
    expires_at: When | None = Field(
        default=None, description="After this, `--due` no longer sends it"
    )
    deadline: When | None = Field(default=None, description="Required for kind scadenza")
    starts_at: When | None = Field(default=None, description="Required for kind evento")
    ends_at: When | None = None
    where: str | None = None
    image: str | None = Field(default=None, description="One JPEG/PNG image, relative to the draft")
    image_alt: str | None = Field(default=None, description="Required when image is set")
    senders: list[str] | None = Field(
        default=None, description="Sender names; default: default_senders"
    )
    text: str | None = Field(default=None, description="Markdown body (YAML drafts only)")
    author: str | None = Field(
        default=None,
        description="Who wrote it (four eyes: the author may not approve it); default: the "
        "author of the last git commit that changed the file",
    )

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().lower()
            return KIND_SYNONYMS.get(key, key)
        return value

    @field_validator("publish_at", "expires_at", "deadline", "starts_at", "ends_at", mode="before")
    @classmethod
    def _when(cls, value: Any) -> Any:
        return parse_when(value)

    @field_validator("senders", mode="before")
    @classmethod
    def _senders(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @field_validator("title", "where", "image_alt", "id", "image", "author", mode="before")
    @classmethod
    def _scalar_text(cls, value: Any) -> Any:
        # YAML reads `title: 2026` as a number; a title is text all the same.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str):
            return value.strip()
        return value

    @model_validator(mode="after")
    def _required_for_kind(self) -> DraftFields:
        if self.kind is Kind.SCADENZA and self.deadline is None:
            raise ValueError(_("a 'scadenza' needs a deadline: add `deadline: 2026-12-31`"))
        if self.kind is Kind.EVENTO and self.starts_at is None:
            raise ValueError(_("an 'evento' needs starts_at: add `starts_at: 2026-12-08 17:00`"))
        return self


@dataclass(frozen=True)
class BodyMap:
    """Maps 0-based (line, column) positions in the body to 1-based places in the file."""

    first_line: int
    indent: int = 0
    exact: bool = True
    #: For a body whose YAML style folds or escapes it: the file place of every character, and
    #: the offsets where the body's lines start.
    chars: tuple[tuple[int, int], ...] = ()
    line_starts: tuple[int, ...] = ()

    def place(self, line: int, column: int) -> tuple[int, int]:
        """The 1-based file line and column of body position (line, column)."""
        if self.chars:
            start = self.line_starts[min(line, len(self.line_starts) - 1)]
            return self.chars[min(start + column, len(self.chars) - 1)]
        if not self.exact:
            return self.first_line, self.indent + 1
        return self.first_line + line, self.indent + column + 1


@dataclass
class Draft:
    """One message draft, with typed fields in the configured time zone and source positions."""

    path: Path
    id: str
    title: str
    kind: Kind
    body: str
    format: Literal["md", "yaml"]
    publish_at: datetime | None = None
    expires_at: datetime | None = None
    deadline: date | datetime | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    where: str | None = None
    image: Path | None = None
    image_alt: str | None = None
    senders: list[str] | None = None
    #: The `author:` field (approvals: the author may not approve their own draft).
    author: str | None = None
    source: str = ""
    positions: Positions = field(default_factory=Positions)
    body_map: BodyMap = field(default_factory=lambda: BodyMap(1))
    #: The title as written in the file (before YAML decoding), for `title_chars`.
    title_raw: Any = field(default=None, repr=False)

    @cached_property
    def title_chars(self) -> tuple[tuple[int, int], ...]:
        """The file place of every character of the title (empty: unknown).

        Computed on first use: only a finding in the title needs it, and walking the written
        scalar is the most expensive part of loading a draft.
        """
        return _title_chars(self.source, self.positions, self.title_raw, self.title)

    def field_place(self, name: str) -> tuple[int, int] | None:
        """1-based (line, column) of the value of field `name`, or of its key."""
        place = self.positions.values.get((name,)) or self.positions.keys.get((name,))
        return (place.line, place.column) if place else None

    def body_place(self, line: int, column: int) -> tuple[int, int]:
        """1-based file (line, column) of a 0-based body position."""
        return self.body_map.place(line, column)

    @property
    def deadline_at(self) -> datetime | None:
        """The deadline as an aware datetime (end of the day when only a date was given)."""
        if self.deadline is None:
            return None
        if isinstance(self.deadline, datetime):
            return self.deadline
        tz = self.publish_at.tzinfo if self.publish_at else None
        return datetime.combine(self.deadline, time(23, 59, 59), tzinfo=tz)

    @property
    def relpath(self) -> str:
        """The draft's path relative to the current folder when possible."""
        try:
            return str(self.path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(self.path)


def _aware(value: date | datetime | None, tz: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0))
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def _problem(
    message: str,
    line: int | None = None,
    column: int | None = None,
    *,
    rule: str = "draft.syntax",
    hint: str | None = None,
) -> Problem:
    return Problem(message, line=line, column=column, rule=rule, hint=hint)


def read_text(path: Path) -> str:
    """Read a draft file as UTF-8, refusing large, binary and empty files."""
    try:
        size = path.stat().st_size
        if size > MAX_DRAFT_BYTES:
            raise DraftError(
                path,
                [
                    _problem(
                        _("file is {size} bytes, over the 1 MiB limit for a draft").format(
                            size=size
                        )
                    )
                ],
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise DraftError(
            path, [_problem(_("cannot read the file: {reason}").format(reason=exc.strerror or exc))]
        ) from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DraftError(
            path, [_problem(_("saved as UTF-16 (\"Unicode\"); save the file as UTF-8"), 1, 1)]
        )
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise DraftError(
            path,
            [
                _problem(
                    _("binary file, not a text draft; drafts are .md or .yaml text files"), line
                )
            ],
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DraftError(
            path,
            [
                _problem(
                    _("not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8").format(
                        byte=raw[exc.start]
                    ),
                    line,
                    column,
                )
            ],
        ) from None
    if not text.strip():
        raise DraftError(
            path,
            [_problem(_("empty file; a draft needs at least a title, a kind and a text"), 1, 1)],
        )
    return text


def _split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    """(front matter, body, 1-based file line where the body starts)."""
    opening = _FRONT_OPEN.match(text)
    if not opening:
        raise DraftError(
            path,
            [
                _problem(
                    _(
                        "no front matter: start the file with a line `---`, then title: and kind:, then `---`"
                    ),
                    1,
                    1,
                )
            ],
        )
    rest = text[opening.end() :]
    closing = _FRONT_CLOSE.search(rest)
    if not closing:
        raise DraftError(
            path,
            [_problem(_("front matter is not closed: add a line `---` after the fields"), 1, 1)],
        )
    front = rest[: closing.start()]
    body_start = opening.end() + closing.end()
    if text[body_start : body_start + 2] == "\r\n":
        body_start += 2
    elif text[body_start : body_start + 1] == "\n":
        body_start += 1
    body_line = text[:body_start].count("\n") + 1
    return front, text[body_start:], body_line


def load_draft(path: Path, tz: ZoneInfo) -> Draft:
    """Load and validate one draft; raise DraftError listing its problems."""
    from comunicast.validation import problems_from_validation

    text = read_text(path)
    fmt: Literal["md", "yaml"] = "md" if path.suffix.lower() == ".md" else "yaml"
    if fmt == "md":
        front, body, body_line = _split_front_matter(path, text)
        line_offset = 1
    else:
        front, body, body_line = text, "", 1
        line_offset = 0
    try:
        data, positions = load(front, line_offset=line_offset)
    except YamlProblem as exc:
        raise DraftError(path, [_problem(exc.message, exc.line, exc.column)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DraftError(
            path,
            [
                _problem(
                    _("the fields must be a map (title: …, kind: …), not a list or a single value"),
                    1 + line_offset,
                    1,
                )
            ],
        )
    if fmt == "md" and "text" in data:
        place = positions.keys.get(("text",))
        raise DraftError(
            path,
            [
                _problem(
                    _(
                        "`text:` belongs to .yaml drafts; in a .md draft write the text after the closing ---"
                    ),
                    place.line if place else None,
                    place.column if place else None,
                    rule="meta.unknown",
                )
            ],
        )
    try:
        fields = DraftFields.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(
                p.message,
                p.line,
                p.column,
                rule="meta.unknown" if p.rule == "meta.unknown" else "meta.required",
            )
            for p in problems_from_validation(exc, positions, DraftFields)
        ]
        for i, p in enumerate(problems):
            if p.line is None:  # whole-model errors (kind-specific requirements): point at kind
                kind_place = positions.keys.get(("kind",))
                if kind_place:
                    problems[i] = Problem(p.message, kind_place.line, kind_place.column, p.rule)
        raise DraftError(path, problems) from None

    if fmt == "yaml":
        if fields.text is None or not fields.text.strip():
            raise DraftError(
                path,
                [
                    _problem(
                        _(
                            "missing `text:` with the message (Markdown); use `text: |` for several lines"
                        ),
                        1,
                        1,
                        rule="meta.required",
                    )
                ],
            )
        body = fields.text
        body_map = _yaml_body_map(text, positions, body)
    else:
        body_map = BodyMap(body_line)
        if not body.strip():
            raise DraftError(
                path,
                [
                    _problem(
                        _("the message text is empty: write it after the closing ---"),
                        body_line,
                        1,
                        rule="meta.required",
                    )
                ],
            )

    image = (path.parent / fields.image) if fields.image else None
    return Draft(
        path=path,
        id=fields.id or path.stem,
        title=fields.title,
        kind=fields.kind,
        body=body.rstrip(),
        format=fmt,
        publish_at=_aware(fields.publish_at, tz),
        expires_at=_aware(fields.expires_at, tz),
        deadline=(
            _aware(fields.deadline, tz)
            if isinstance(fields.deadline, datetime)
            else fields.deadline
        ),
        starts_at=_aware(fields.starts_at, tz),
        ends_at=_aware(fields.ends_at, tz),
        where=fields.where,
        image=image,
        image_alt=fields.image_alt,
        senders=fields.senders,
        author=fields.author or None,
        source=text,
        positions=positions,
        body_map=body_map,
        title_raw=data.get("title"),
    )


def _title_chars(
    text: str, positions: Positions, raw: Any, title: str
) -> tuple[tuple[int, int], ...]:
    """The file place of every character of the (stripped) title."""
    place = positions.values.get(("title",))
    if place is None or not isinstance(raw, str):
        return ()
    chars = scalar_places(text, place, raw)
    if not chars or not title:
        return ()
    lead = len(raw) - len(raw.lstrip())
    return tuple(chars[lead : lead + len(title)])


def _yaml_body_map(text: str, positions: Positions, body: str) -> BodyMap:
    place = positions.values.get(("text",))
    if place is None:
        return BodyMap(1, exact=False)
    if place.style != "|":
        # Folded, plain or quoted: lines are joined and escapes decoded, so map every character.
        chars = scalar_places(text, place, body)
        if chars:
            starts = [0] + [i + 1 for i, ch in enumerate(body) if ch == "\n"]
            return BodyMap(place.line, exact=False, chars=tuple(chars), line_starts=tuple(starts))
    if place.style == "|":
        # A literal block: body line i is file line (value line + 1 + i), indented uniformly.
        lines = text.splitlines()
        first = place.line  # the `|` indicator's line; content starts on the next one
        indent = 0
        for candidate in lines[first:]:
            if candidate.strip():
                indent = len(candidate) - len(candidate.lstrip(" "))
                break
        return BodyMap(first + 1, indent)
    if place.style is None or place.style in ("'", '"'):
        column = place.column if place.style is None else place.column + 1
        return BodyMap(place.line, column - 1, exact=place.style is None)
    return BodyMap(place.line + 1, exact=False)


@dataclass
class DraftSet:
    """Drafts that loaded, and errors of those that did not (one bad file never stops the rest)."""

    drafts: list[Draft] = field(default_factory=list)
    errors: list[DraftError] = field(default_factory=list)


def draft_files(paths: list[Path]) -> list[Path]:
    """Expand folders to their draft files (recursively, hidden folders skipped), sorted."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ConfigError(
                _("{path} does not exist").format(path=path),
                hint=_("check the path; drafts live in messages/"),
            )
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if any(part.startswith(".") for part in rel):
                    continue
                if child.is_file() and child.suffix.lower() in DRAFT_SUFFIXES:
                    found.append(child)
        elif path.suffix.lower() in DRAFT_SUFFIXES:
            found.append(path)
        else:
            raise UsageError(
                _("{path} is not a draft: drafts are .md, .yaml or .yml files").format(path=path)
            )
    return found


def load_drafts(paths: list[Path], tz: ZoneInfo) -> DraftSet:
    """Load every draft under `paths`; duplicate ids are errors on the later file."""
    result = DraftSet()
    seen: dict[str, Path] = {}
    for file in draft_files(paths):
        try:
            draft = load_draft(file, tz)
        except DraftError as exc:
            result.errors.append(exc)
            continue
        if draft.id in seen and seen[draft.id].resolve() != file.resolve():
            place = draft.field_place("id") or (1, 1)
            result.errors.append(
                DraftError(
                    file,
                    [
                        _problem(
                            _(
                                "id '{id}' is also used by {other}; every draft needs its own id"
                            ).format(id=draft.id, other=seen[draft.id]),
                            *place,
                            rule="meta.required",
                        )
                    ],
                )
            )
            continue
        if draft.id not in seen:
            seen[draft.id] = file
            result.drafts.append(draft)
    return result
