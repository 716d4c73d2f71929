"""Approvals: four eyes, bound to the exact content, signed with OpenSSH keys (SPEC §8).

An approval is a small text file in `approvals/` beside comunicast.yaml that names a draft, the
*content revision* it approved (`revision.content_revision`), the approver and the time; when the
approver has a key in `approval.approvers`, it carries an SSH signature over the one-line
statement `comunicast-approval v1 <draft_id> <content_revision> <approver> <ISO time>`, made and
checked by `ssh-keygen -Y sign|verify` (never by code of ours). Reading never trusts a file:
anything it cannot read is a located problem, and never counts.

The parts: `files` (format, reading), `signatures` (ssh-keygen), `judge` (four eyes, which
approvals count), `gate` (what `publish` lets out), `approve` (writing them; listings).
"""

from __future__ import annotations

from comunicast.approvals.approve import (
    Approved,
    add_approval_findings,
    approve,
    approver_named,
    verdicts,
)
from comunicast.approvals.files import (
    APPROVALS_DIR,
    NAMESPACE,
    ApprovalFile,
    ApprovalSet,
    BadApprovalFile,
    BadApprovalFileError,
    approvals_dir,
    file_name,
    format_approval,
    load_approvals,
    parse_approval,
    shown,
    statement,
)
from comunicast.approvals.gate import ApprovalGate, ApprovalRecord, Gated, UrgentBypass
from comunicast.approvals.judge import (
    Judged,
    Verdict,
    authors_of,
    content_revision_of,
    git_author,
    git_user_name,
    judge,
    needs_approval,
    uses_keys,
)
from comunicast.approvals.signatures import INSTALL_HINT, Verifier, default_key, sign, ssh_keygen

__all__ = [
    "APPROVALS_DIR", "INSTALL_HINT", "NAMESPACE", "ApprovalFile", "ApprovalGate",
    "ApprovalRecord", "ApprovalSet", "Approved", "BadApprovalFile", "BadApprovalFileError",
    "Gated", "Judged", "UrgentBypass", "Verdict", "Verifier", "add_approval_findings",
    "approvals_dir", "approve", "approver_named", "authors_of", "content_revision_of",
    "default_key", "file_name", "format_approval", "git_author", "git_user_name", "judge",
    "load_approvals", "needs_approval", "parse_approval", "shown", "sign", "ssh_keygen",
    "statement", "uses_keys", "verdicts",
]
