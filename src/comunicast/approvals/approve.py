"""`approve` (writing approval files, all or nothing), and the listings of `approvals`/`check`."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from comunicast.approvals.files import (
    ApprovalFile,
    ApprovalSet,
    approvals_dir,
    file_name,
    format_approval,
    load_approvals,
    statement,
)
from comunicast.approvals.judge import (
    Verdict,
    authors_of,
    content_revision_of,
    git_authors,
    git_user_name,
    judge,
    needs_approval,
    uses_keys,
    with_committer,
)
from comunicast.approvals.signatures import Verifier, default_key, sign, ssh_keygen
from comunicast.config import same_person
from comunicast.errors import ApprovalError, ConfigError
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Approver, Config
    from comunicast.drafts import Draft
    from comunicast.rules.run import Report


@dataclass(frozen=True)
class Approved:
    """One approval `approve` wrote."""

    draft_id: str
    revision: str
    approver: str
    path: Path
    signed: bool
    required: bool


def approver_named(config: Config, name: str | None, cwd: Path) -> Approver:
    """The configured approver `--as NAME` names, else `git config user.name`; or a refusal."""
    approval = config.approval
    if not approval.approvers:
        raise ApprovalError(
            _("comunicast.yaml lists no approvers: nobody may approve"),
            hint=_("add them under approval.approvers (name:, and key: to sign)"),
        )
    names = ", ".join(a.name for a in approval.approvers)
    if name is None:
        name = git_user_name(cwd)
        if name is None:
            from comunicast.errors import UsageError

            raise UsageError(
                _("say who approves: --as NAME (one of: {names})").format(names=names),
                hint=_("without --as, comunicast takes your `git config user.name`"),
            )
    approver = approval.approver(name)
    if approver is None:
        raise ApprovalError(
            _("{name} is not in approval.approvers (approvers: {names})").format(
                name=name, names=names),
            hint=_("pass --as with your name as comunicast.yaml writes it"),
        )
    return approver


def approve(
    config: Config,
    drafts: list[Draft],
    approver: Approver,
    *,
    key: Path | None,
    now: datetime,
) -> list[Approved]:
    """Approve each draft's current content as `approver`; all or nothing (SPEC §8).

    Every check runs, and every signature is made and verified, before the first file is
    written: a refusal for one draft writes nothing at all.
    """
    if key is not None and approver.key is None:
        raise ApprovalError(
            _("{name} has no key in approval.approvers, so a signature could not be checked")
            .format(name=approver.name),
            hint=_("add key: (the line of the .pub file) under her or his name, or leave out "
                   "--key"),
        )
    if approver.key is not None:
        ssh_keygen()
        if key is None:
            key = default_key(approver)
            if key is None:
                raise ApprovalError(
                    _("{name}'s approvals must be signed: pass --key with the private key whose "
                      "public half is in comunicast.yaml").format(name=approver.name),
                    hint=_("comunicast approve DRAFT --key ~/.ssh/id_ed25519"),
                )
        elif not key.is_file():
            raise ConfigError(_("{path} does not exist").format(path=key),
                              hint=_("--key takes the private key file, e.g. ~/.ssh/id_ed25519"))
    approved_at = now.replace(microsecond=0).isoformat()
    verifier = Verifier(config)
    pending: list[tuple[Draft, str, str | None]] = []
    try:
        for draft in drafts:
            writers = authors_of(draft)
            if any(same_person(approver.name, w) for w in writers):
                raise ApprovalError(
                    _("{path}: {name} wrote this draft and may not approve it (four eyes)")
                    .format(path=draft.relpath, name=approver.name),
                    hint=_("ask another approver: {names}").format(names=", ".join(
                        a.name for a in config.approval.approvers
                        if not any(same_person(a.name, w) for w in writers)) or "-"),
                )
            revision = content_revision_of(draft)
            signature = None
            if approver.key is not None:
                assert key is not None
                line = statement(draft.id, revision, approver.name, approved_at)
                signature = sign(line, key)
                check = ApprovalFile(Path(file_name(draft.id, revision, approver.name)),
                                     draft.id, revision, approver.name, approved_at, signature)
                if verifier.verify(check, approver) is not None:
                    raise ApprovalError(
                        _("{key} is not {name}'s key in comunicast.yaml: the signature would "
                          "not count").format(key=key, name=approver.name),
                        hint=_("sign with the key whose .pub line is under her or his name"),
                    )
            pending.append((draft, revision, signature))
    finally:
        verifier.close()
    folder = approvals_dir(config)
    written = []
    for draft, revision, signature in pending:
        path = folder / file_name(draft.id, revision, approver.name)
        text = format_approval(draft, revision, approver.name, approved_at, signature)
        _write_atomic(path, text.encode("utf-8"))
        written.append(Approved(draft.id, revision, approver.name, path, signature is not None,
                                needs_approval(config, draft)))
    return written


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers (a `publish --due` running now) see no file or the whole file, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def verdicts(config: Config, drafts: list[Draft]) -> tuple[list[Verdict], ApprovalSet]:
    """Every draft's verdict (for `approvals` and `check`); signatures checked in parallel."""
    found = load_approvals(config)
    if any(needs_approval(config, d) or found.of(d.id) for d in drafts) and uses_keys(config) \
            and any(f.signed for f in found.files):
        ssh_keygen()
    verifier = Verifier(config, remember=True)
    try:
        revisions = {d.path: content_revision_of(d) for d in drafts}
        pairs = []
        for draft in drafts:
            for approval in found.of(draft.id):
                who = config.approval.approver(approval.approver)
                if approval.revision == revisions[draft.path] and approval.signed \
                        and who is not None and who.key:
                    pairs.append((approval, who))
        verifier.verify_many(pairs)
        # One `git log` for every draft, instead of one per draft.
        committers = git_authors([d.path for d in drafts if needs_approval(config, d)
                                  or found.of(d.id)])
        out = [judge(config, d, revisions[d.path], found, verifier,
                     with_committer(d, committers.get(d.path))) for d in drafts]
    finally:
        verifier.close()
    return out, found


# -- check -------------------------------------------------------------------------------------


def add_approval_findings(report: Report, config: Config, *, strict: bool) -> None:
    """`approval.missing` on each unpublished draft that needs approval and lacks it.

    Info, so the office sees what waits; an error with --strict. Computed on every run, never
    remembered by the findings cache: approvals come and go without the draft changing.
    """
    from comunicast.rules.engine import Finding, Severity, sort_key
    from comunicast.rules.run import published_ids

    waiting = [d for d in report.drafts if needs_approval(config, d)]
    if not waiting:
        return
    published = published_ids(config)
    waiting = [d for d in waiting if d.id not in published]
    judged, _found = verdicts(config, waiting)
    by_path = {f.path: f for f in report.files}
    for draft, verdict in zip(waiting, judged, strict=True):
        if verdict.may_publish or draft.path not in by_path:
            continue
        place = draft.field_place("kind")
        file = by_path[draft.path]
        file.findings.append(Finding(
            "approval.missing", Severity.ERROR if strict else Severity.INFO,
            verdict.missing(config), place[0] if place else 1, place[1] if place else 1,
        ))
        file.findings.sort(key=sort_key)
