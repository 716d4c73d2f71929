"""Who wrote a draft, and which of its approvals count for its current content (four eyes)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from comunicast.approvals.files import ApprovalFile, ApprovalSet, BadApprovalFile, shown
from comunicast.approvals.signatures import Verifier
from comunicast.config import same_person
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Approver, Config
    from comunicast.drafts import Draft

Status = Literal["waiting", "approved", "stale", "not-required"]


def authors_of(draft: Draft) -> list[str]:
    """Who wrote the draft: its `author:` and the author of the last commit that changed it.

    Both count for four eyes: whoever changed the text last may not approve it either. Without
    git, outside a repository or for an untracked file, the `author:` field alone.
    """
    return with_committer(draft, git_author(draft.path))


def with_committer(draft: Draft, committer: str | None) -> list[str]:
    """The draft's `author:` and the author of its last commit, each once."""
    authors = [draft.author] if draft.author else []
    if committer and not any(same_person(committer, a) for a in authors):
        authors.append(committer)
    return authors


def git_authors(paths: list[Path]) -> dict[Path, str]:
    """`git_author` of many files with one `git log` over their folder (for listings).

    The newest commit that names a file in `--name-only` is the last one that changed it.
    Files outside a repository, or untracked, are left out.
    """
    program = shutil.which("git")
    if program is None or not paths:
        return {}
    resolved = [p.resolve() for p in paths]
    folder = Path(os.path.commonpath([p.parent for p in resolved]))
    try:
        top = subprocess.run([program, "rev-parse", "--show-toplevel"], cwd=folder,
                             capture_output=True, text=True, timeout=30, check=False)
        if top.returncode != 0:
            return {}
        log = subprocess.run(
            [program, "-c", "core.quotePath=false", "log", "--no-renames", "--format=%x01%an",
             "--name-only", "--", "."],
            cwd=folder, capture_output=True, text=True, timeout=120, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    if log.returncode != 0:
        return {}
    root = Path(top.stdout.strip()).resolve()
    wanted = {p.relative_to(root).as_posix(): p for p in resolved if p.is_relative_to(root)}
    found: dict[Path, str] = {}
    author = ""
    for line in log.stdout.splitlines():
        if line.startswith("\x01"):
            author = line[1:].strip()
        elif line in wanted and wanted[line] not in found and author:
            found[wanted[line]] = author
    return {original: found[r] for original, r in zip(paths, resolved, strict=True)
            if r in found}


def git_author(path: Path) -> str | None:
    """`git log -1 --format=%an -- FILE`, or None (no git, not a repository, untracked)."""
    program = shutil.which("git")
    if program is None:
        return None
    try:
        result = subprocess.run(
            [program, "log", "-1", "--format=%an", "--", path.name],
            cwd=path.parent, capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def git_user_name(cwd: Path) -> str | None:
    """`git config user.name`, or None."""
    program = shutil.which("git")
    if program is None:
        return None
    try:
        result = subprocess.run([program, "config", "user.name"], cwd=cwd, capture_output=True,
                                text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None



@dataclass(frozen=True)
class Judged:
    """One approval file of a draft, and whether it counts for the draft's current content."""

    file: ApprovalFile
    valid: bool
    stale: bool
    reason: str | None = None

    def to_json(self) -> dict[str, object]:
        """SPEC §8 `approvals` entry (plus the reason it does not count)."""
        return {
            "approver": self.file.approver,
            "revision": self.file.revision,
            "signed": self.file.signed,
            "valid": self.valid,
            "file": shown(self.file.path),
            "approved_at": self.file.approved_at,
            "reason": self.reason,
        }


@dataclass
class Verdict:
    """Where one draft stands: its content revision, its approvals, and whether it may go out."""

    draft_id: str
    content_revision: str
    required: bool
    judged: list[Judged] = field(default_factory=list)
    problems: list[BadApprovalFile] = field(default_factory=list)
    min_approvals: int = 1
    #: Who wrote it (looked up on first need: git costs a process).
    authors: list[str] | None = None
    draft: Draft | None = field(default=None, repr=False)

    @property
    def approved_by(self) -> list[str]:
        """Different approvers whose approval counts, in file order."""
        names: list[str] = []
        for j in self.judged:
            if j.valid and not any(same_person(j.file.approver, n) for n in names):
                names.append(j.file.approver)
        return names

    @property
    def valid(self) -> list[ApprovalFile]:
        """One counting approval file per approver."""
        out: list[ApprovalFile] = []
        for name in self.approved_by:
            out.append(next(j.file for j in self.judged
                            if j.valid and same_person(j.file.approver, name)))
        return out

    @property
    def status(self) -> Status:
        """waiting | approved | stale | not-required."""
        if not self.required:
            return "not-required"
        if len(self.approved_by) >= self.min_approvals:
            return "approved"
        if any(j.stale for j in self.judged):
            return "stale"
        return "waiting"

    @property
    def may_publish(self) -> bool:
        """True when the draft needs no approval or has enough."""
        return self.status in ("approved", "not-required")

    def to_json(self) -> dict[str, object]:
        """SPEC §8 `approvals --format json` entry."""
        return {
            "draft_id": self.draft_id,
            "content_revision": self.content_revision,
            "status": self.status,
            "approved_by": self.approved_by,
            "approvals": [j.to_json() for j in self.judged],
            "errors": [{"file": shown(p.path), "line": p.line, "message": p.message}
                       for p in self.problems],
        }

    def missing(self, config: Config) -> str:
        """Why it may not go out: who may approve it, and which files do not count."""
        approval = config.approval
        have = self.approved_by
        if self.authors is None:
            self.authors = authors_of(self.draft) if self.draft is not None else []
        eligible = [a.name for a in approval.approvers
                    if not any(same_person(a.name, n) for n in [*have, *self.authors])]
        need = approval.min_approvals - len(have)
        if not eligible:
            text = _("approval needed, but no approver in approval.approvers other than who "
                     "wrote it may approve it; add one")
        elif need <= 1:
            text = _("approval needed from one of: {names}").format(names=", ".join(eligible))
        else:
            text = _("{n} more approvals needed, from: {names}").format(
                n=need, names=", ".join(eligible))
        if any(j.stale for j in self.judged):
            text += "; " + _("the content changed since it was approved (stale: {files})").format(
                files=", ".join(shown(j.file.path) for j in self.judged if j.stale))
        refused = [j for j in self.judged if not j.valid and not j.stale]
        for j in refused:
            text += "; " + f"{shown(j.file.path)}: {j.reason}"
        for p in self.problems:
            text += "; " + str(p)
        return text


def needs_approval(config: Config, draft: Draft) -> bool:
    """True when drafts of this kind need approval."""
    return config.approval.needed_for(str(draft.kind))


def image_sha256(draft: Draft) -> str | None:
    """SHA-256 of the draft's image bytes (None without an image, or when it cannot be read)."""
    from comunicast.revision import file_sha256

    if draft.image is None:
        return None
    try:
        return file_sha256(draft.image)
    except OSError:
        return None


def content_revision_of(draft: Draft) -> str:
    """The draft's content revision, from its image file as it is now."""
    from comunicast.revision import content_revision

    return content_revision(draft, image_sha256(draft))


def judge(
    config: Config,
    draft: Draft,
    revision: str,
    found: ApprovalSet,
    verifier: Verifier,
    authors: Iterable[str] | None = None,
) -> Verdict:
    """Which approvals of `draft` count for its content `revision` (SPEC §8)."""
    verdict = Verdict(draft.id, revision, needs_approval(config, draft),
                      problems=found.problems_of(draft.id),
                      min_approvals=config.approval.min_approvals, draft=draft,
                      authors=list(authors) if authors is not None else None)
    files = found.of(draft.id)
    if not files:
        return verdict
    writers = verdict.authors if verdict.authors is not None else authors_of(draft)
    verdict.authors = writers
    to_verify: list[tuple[int, ApprovalFile, Approver]] = []
    judged: list[Judged | None] = []
    for approval in files:
        approver = config.approval.approver(approval.approver)
        if approval.revision != revision:
            judged.append(Judged(approval, False, True,
                                 _("approved another content revision ({rev})").format(
                                     rev=approval.revision[3:15])))
        elif approver is None:
            judged.append(Judged(approval, False, False,
                                 _("{name} is not in approval.approvers").format(
                                     name=approval.approver)))
        elif any(same_person(approver.name, w) for w in writers):
            judged.append(Judged(approval, False, False,
                                 _("{name} wrote the draft and may not approve it (four "
                                   "eyes)").format(name=approver.name)))
        elif approver.key is None:
            judged.append(Judged(approval, True, False))
        elif not approval.signed:
            judged.append(Judged(approval, False, False,
                                 _("not signed, but {name} has a key: her or his approvals must "
                                   "be signed").format(name=approver.name)))
        else:
            to_verify.append((len(judged), approval, approver))
            judged.append(None)
    results = verifier.verify_many([(a, who) for _i, a, who in to_verify])
    for (index, approval, _who), reason in zip(to_verify, results, strict=True):
        judged[index] = Judged(approval, reason is None, False, reason)
    verdict.judged = [j for j in judged if j is not None]
    return verdict


def uses_keys(config: Config) -> bool:
    """True when some approver has a key (signatures need ssh-keygen)."""
    return any(a.key for a in config.approval.approvers)

