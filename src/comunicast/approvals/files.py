"""Approval files in `approvals/`: their format, and reading them without trusting them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from comunicast.config import approver_slug
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.drafts import Draft

NAMESPACE = "comunicast-approval"
STATEMENT_VERSION = "v1"
APPROVALS_DIR = "approvals"
MAX_FILE_BYTES = 64 * 1024
FIELDS = ("version", "draft", "content_revision", "approver", "approved_at")
SIG_BEGIN = "-----BEGIN SSH SIGNATURE-----"
SIG_END = "-----END SSH SIGNATURE-----"
_REVISION = re.compile(r"^v1:[0-9a-f]{64}$")
_DRAFT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_FILE_NAME = re.compile(r"^(?P<draft>.+)\.(?P<rev>[0-9a-f]{12})\.(?P<who>[a-z0-9-]+)\.txt$")
_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/=]+$")


@dataclass(frozen=True)
class ApprovalFile:
    """One approval as read from `approvals/`."""

    path: Path
    draft_id: str
    revision: str
    approver: str
    approved_at: str
    signature: str | None = None

    @property
    def statement(self) -> str:
        """The one line the approver signs."""
        return statement(self.draft_id, self.revision, self.approver, self.approved_at)

    @property
    def signed(self) -> bool:
        """True when the file carries a signature (valid or not)."""
        return self.signature is not None


@dataclass(frozen=True)
class BadApprovalFile:
    """A file in `approvals/` that cannot be read as an approval: it never counts."""

    path: Path
    line: int | None
    message: str
    #: The draft its name points at (`<draft_id>.<revision12>.<approver>.txt`), when it does.
    draft_id: str | None = None

    def __str__(self) -> str:
        where = shown(self.path) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.message}"


def statement(draft_id: str, revision: str, approver: str, approved_at: str) -> str:
    """`comunicast-approval v1 <draft_id> <content_revision> <approver name> <ISO time>`."""
    return f"{NAMESPACE} {STATEMENT_VERSION} {draft_id} {revision} {approver} {approved_at}"


def file_name(draft_id: str, revision: str, approver: str) -> str:
    """`<draft_id>.<revision12>.<approver-slug>.txt`."""
    return f"{draft_id}.{revision.split(':', 1)[-1][:12]}.{approver_slug(approver)}.txt"


def format_approval(
    draft: Draft, revision: str, approver: str, approved_at: str, signature: str | None
) -> str:
    """The text of an approval file: commented for people, `key: value` lines, the signature."""
    lines = [
        "# " + _("comunicast approval: do not edit; any change makes it invalid"),
        "# " + _("title: {title}").format(title=" ".join(draft.title.split())),
        "version: 1",
        f"draft: {draft.id}",
        f"content_revision: {revision}",
        f"approver: {approver}",
        f"approved_at: {approved_at}",
    ]
    if signature is not None:
        lines.append(signature.strip())
    return "\n".join(lines) + "\n"


def parse_approval(path: Path, data: bytes) -> ApprovalFile:
    """Read one approval file; any problem is raised as a `BadApprovalFile` (an exception)."""
    named = _FILE_NAME.match(path.name)
    draft_hint = named.group("draft") if named else None

    def bad(message: str, line: int | None = None) -> BadApprovalFileError:
        return BadApprovalFileError(BadApprovalFile(path, line, message, draft_hint))

    if len(data) > MAX_FILE_BYTES:
        raise bad(_("too large for an approval (over 64 KiB)"), 1)
    if b"\x00" in data:
        raise bad(_("binary data, not an approval; remove the file"), 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad(_("not UTF-8 text; remove the file and approve again"),
                  data[: exc.start].count(b"\n") + 1) from None
    values: dict[str, tuple[str, int]] = {}
    signature: list[str] | None = None
    sig_line = 0
    closed = False
    lines = text.splitlines()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if signature is not None and not closed:
            if line == SIG_END:
                signature.append(line)
                closed = True
            elif _BASE64_LINE.match(line):
                signature.append(line)
            else:
                raise bad(_("the signature is damaged; approve the draft again"), number)
            continue
        if not line or line.startswith("#"):
            continue
        if closed:
            raise bad(_("unexpected text after the signature"), number)
        if line == SIG_BEGIN:
            signature, sig_line = [line], number
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise bad(_("not an approval line (`key: value`); remove the file and approve "
                        "again"), number)
        if key not in FIELDS:
            raise bad(_("unknown field '{key}' (expected: {keys})").format(
                key=key, keys=", ".join(FIELDS)), number)
        if key in values:
            raise bad(_("'{key}' is written twice").format(key=key), number)
        values[key] = (value, number)
    if signature is not None and not closed:
        raise bad(_("the signature is cut short (no END line); approve the draft again"),
                  sig_line)
    for key in FIELDS:
        if key not in values:
            raise bad(_("missing '{key}:'; the file is cut short or was not written by "
                        "comunicast").format(key=key), len(lines) or 1)
    version, at = values["version"]
    if version != "1":
        raise bad(_("unsupported version '{value}' (this comunicast reads version 1)").format(
            value=version), at)
    draft_id, at = values["draft"]
    if not _DRAFT_ID.match(draft_id):
        raise bad(_("'{value}' is not a draft id").format(value=draft_id), at)
    revision, at = values["content_revision"]
    if not _REVISION.match(revision):
        raise bad(_("'{value}' is not a content revision").format(value=revision), at)
    approver, at = values["approver"]
    if not re.search(r"\w", approver):
        raise bad(_("the approver's name is empty"), at)
    approved_at, at = values["approved_at"]
    try:
        when = datetime.fromisoformat(approved_at)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or " " in approved_at:
        raise bad(_("'{value}' is not an ISO date-time with offset").format(value=approved_at),
                  at)
    return ApprovalFile(
        path=path, draft_id=draft_id, revision=revision, approver=" ".join(approver.split()),
        approved_at=approved_at,
        signature="\n".join(signature) + "\n" if signature is not None else None,
    )


class BadApprovalFileError(Exception):
    """Carries a `BadApprovalFile` out of `parse_approval`."""

    def __init__(self, problem: BadApprovalFile) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class ApprovalSet:
    """Every file of `approvals/`: those that read as approvals, and those that do not."""

    files: list[ApprovalFile] = field(default_factory=list)
    problems: list[BadApprovalFile] = field(default_factory=list)

    def of(self, draft_id: str) -> list[ApprovalFile]:
        """The approvals that name `draft_id`."""
        return [f for f in self.files if f.draft_id == draft_id]

    def problems_of(self, draft_id: str) -> list[BadApprovalFile]:
        """The unreadable files whose name points at `draft_id`."""
        return [p for p in self.problems if p.draft_id == draft_id]


def approvals_dir(config: Config) -> Path:
    """`approvals/` beside comunicast.yaml."""
    return config.root / APPROVALS_DIR


def load_approvals(config: Config) -> ApprovalSet:
    """Read every `*.txt` of `approvals/` (other files, such as a README, are not approvals)."""
    found = ApprovalSet()
    folder = approvals_dir(config)
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.txt")):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            found.problems.append(BadApprovalFile(
                path, None, _("cannot read it: {reason}").format(reason=exc.strerror or exc)))
            continue
        try:
            found.files.append(parse_approval(path, data))
        except BadApprovalFileError as exc:
            found.problems.append(exc.problem)
    return found


def shown(path: Path) -> str:
    """A path relative to the current folder when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

