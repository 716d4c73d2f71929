"""The gate `publish` passes each draft through: approved content only, or an urgent bypass."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from comunicast.approvals.files import ApprovalFile, ApprovalSet, load_approvals
from comunicast.approvals.judge import content_revision_of, judge, needs_approval, uses_keys
from comunicast.approvals.signatures import Verifier, ssh_keygen
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.drafts import Draft


@dataclass(frozen=True)
class UrgentBypass:
    """`publish --urgent --reason TEXT`: who sent an emergenza without approval, and why."""

    reason: str
    user: str


@dataclass(frozen=True)
class ApprovalRecord:
    """What a publication went out under, for the ledger: approvals, or an urgent bypass."""

    content_revision: str
    approvals: tuple[ApprovalFile, ...] = ()
    urgent: UrgentBypass | None = None


@dataclass(frozen=True)
class Gated:
    """The answer of the gate for one draft: the draft to send, or why it may not go."""

    draft: Draft
    record: ApprovalRecord | None = None
    refusal: str | None = None


class ApprovalGate:
    """Decides, in `publish`, whether each draft may go out, from the very bytes to be sent.

    The draft's text was read once by the loader and is what gets rendered; its image is copied
    into a private folder here, and that copy is both hashed for the content revision and sent.
    So an edit or an approval written while the run goes on can never pair an approval with
    other content.
    """

    def __init__(self, config: Config, *, urgent: UrgentBypass | None = None) -> None:
        self.config = config
        self.urgent = urgent
        self.verifier = Verifier(config)
        self._found: ApprovalSet | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._gated: dict[str, Gated] = {}
        self._snaps: dict[Path, Draft] = {}

    def close(self) -> None:
        """Remove the temporary copies and files."""
        self.verifier.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def approvals(self) -> ApprovalSet:
        """`approvals/`, read once per run."""
        if self._found is None:
            self._found = load_approvals(self.config)
        return self._found

    def prepare(self, drafts: list[Draft]) -> None:
        """Check the signatures of several drafts at once (in parallel) before `check` asks."""
        wanted = [d for d in drafts if needs_approval(self.config, d)]
        if not wanted or not uses_keys(self.config):
            return
        found = self.approvals()
        pairs = []
        for draft in wanted:
            snap = self._snapshot(draft)
            revision = content_revision_of(snap)
            for approval in found.of(draft.id):
                approver = self.config.approval.approver(approval.approver)
                if approval.revision == revision and approval.signed and approver is not None \
                        and approver.key:
                    pairs.append((approval, approver))
        if pairs:
            self.verifier.verify_many(pairs)

    def check(self, draft: Draft) -> Gated:
        """May `draft` go out now? (its snapshot, and the record for the ledger)"""
        if draft.id in self._gated and self._gated[draft.id].draft.path == draft.path:
            return self._gated[draft.id]
        gated = self._check(draft)
        self._gated[draft.id] = gated
        return gated

    def _check(self, draft: Draft) -> Gated:
        from comunicast.drafts import Kind

        required = needs_approval(self.config, draft)
        if self.urgent is not None and draft.kind is not Kind.EMERGENZA:
            return Gated(draft, refusal=_("--urgent is only for an emergenza"))
        if not required and self.urgent is None:
            return Gated(draft)
        if required and uses_keys(self.config):
            ssh_keygen()  # exit 3 at once when signatures cannot be checked
        snap = self._snapshot(draft)
        revision = content_revision_of(snap)
        verdict = judge(self.config, snap, revision, self.approvals(), self.verifier)
        record = ApprovalRecord(revision, tuple(verdict.valid), self.urgent)
        if not required or verdict.may_publish:
            return Gated(snap, record)
        if self.urgent is not None:
            if not self.config.approval.urgent_bypass:
                return Gated(snap, refusal=_(
                    "approval.urgent_bypass is off in comunicast.yaml: even an emergenza needs "
                    "approval; {missing}").format(missing=verdict.missing(self.config)))
            return Gated(snap, record)
        return Gated(snap, refusal=verdict.missing(self.config))

    def _snapshot(self, draft: Draft) -> Draft:
        """The draft with its image copied into a private folder (the bytes that will be sent)."""
        if draft.image is None or not draft.image.is_file():
            return draft
        if draft.path in self._snaps:
            return self._snaps[draft.path]
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="comunicast-images-")
        folder = Path(self._scratch.name) / str(len(os.listdir(self._scratch.name)))
        folder.mkdir()
        copy = folder / draft.image.name
        try:
            shutil.copyfile(draft.image, copy)
        except OSError:
            return draft  # unreadable: the media rules refuse it
        snap = replace(draft, image=copy)
        self._snaps[draft.path] = snap
        return snap

