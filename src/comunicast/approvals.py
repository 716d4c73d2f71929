"""Approvals: four eyes, bound to the exact content, signed with OpenSSH keys (SPEC §8).

An approval is a small text file in `approvals/` beside comunicast.yaml that names a draft, the
*content revision* it approved (`revision.content_revision`), the approver and the time; when the
approver has a key in `approval.approvers`, it carries an SSH signature over the one-line
statement `comunicast-approval v1 <draft_id> <content_revision> <approver> <ISO time>`, made and
checked by `ssh-keygen -Y sign|verify` (never by code of ours). Reading never trusts a file:
anything it cannot read is a located problem, and never counts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from comunicast.config import approver_slug, same_person
from comunicast.errors import ApprovalError, ConfigError
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Approver, Config
    from comunicast.drafts import Draft
    from comunicast.rules.run import Report

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
#: Where `approve` looks for the approver's private key when --key is not given.
DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_ed25519_sk", "id_ecdsa_sk", "id_rsa")
INSTALL_HINT = "apt-get install openssh-client"

Status = Literal["waiting", "approved", "stale", "not-required"]


# -- files -------------------------------------------------------------------------------------


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


# -- signatures (OpenSSH) ----------------------------------------------------------------------


def ssh_keygen() -> str:
    """The `ssh-keygen` program, or a configuration error saying what to install."""
    found = shutil.which("ssh-keygen")
    if found is None:
        raise ConfigError(
            _("ssh-keygen is not installed, and approval.approvers has keys: approvals cannot "
              "be signed or checked without it"),
            hint=_("install OpenSSH's client: {command}").format(command=INSTALL_HINT),
        )
    return found


class Verifier:
    """Checks signatures with `ssh-keygen -Y verify` against the configured keys.

    One allowed-signers file per run, in a private temporary folder, with one principal per
    approver (the slug of the name: names may hold spaces and quotes). Each (file, key) is
    verified once per run; several at once run in parallel.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._memo: dict[tuple[str, str, str], str | None] = {}

    def close(self) -> None:
        """Remove the temporary folder."""
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def _allowed_signers(self) -> Path:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="comunicast-approvals-")
        path = Path(self._folder.name) / "allowed_signers"
        if not path.exists():
            lines = [
                f'{approver_slug(a.name)} namespaces="{NAMESPACE}" {a.key}'
                for a in self.config.approval.approvers if a.key
            ]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def verify(self, approval: ApprovalFile, approver: Approver) -> str | None:
        """None when `approval` is signed by `approver`'s key, else why not."""
        return self.verify_many([(approval, approver)])[0]

    def verify_many(self, pairs: list[tuple[ApprovalFile, Approver]]) -> list[str | None]:
        """`verify` of several approvals, in parallel."""
        todo = [(a, who) for a, who in pairs if self._key(a, who) not in self._memo]
        if todo:
            program = ssh_keygen()
            allowed = self._allowed_signers()
            if len(todo) == 1:
                results = [self._run(program, allowed, *todo[0])]
            else:
                with ThreadPoolExecutor(max_workers=min(8, len(todo))) as pool:
                    results = list(pool.map(lambda p: self._run(program, allowed, *p), todo))
            for (a, who), result in zip(todo, results, strict=True):
                self._memo[self._key(a, who)] = result
        return [self._memo[self._key(a, who)] for a, who in pairs]

    @staticmethod
    def _key(approval: ApprovalFile, approver: Approver) -> tuple[str, str, str]:
        return (approval.statement, approval.signature or "", approver.key or "")

    def _run(self, program: str, allowed: Path, approval: ApprovalFile,
             approver: Approver) -> str | None:
        assert approval.signature is not None
        fd, sig = tempfile.mkstemp(suffix=".sig", dir=allowed.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(approval.signature)
            result = subprocess.run(
                [program, "-Y", "verify", "-f", str(allowed), "-I", approver_slug(approver.name),
                 "-n", NAMESPACE, "-s", sig],
                input=(approval.statement + "\n").encode("utf-8"), capture_output=True,
                timeout=60, check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return _("ssh-keygen could not check the signature: {reason}").format(reason=exc)
        finally:
            Path(sig).unlink(missing_ok=True)
        if result.returncode == 0:
            return None
        return _("the signature is not {name}'s (altered, copied from another approval or "
                 "signed with another key)").format(name=approver.name)


def sign(statement_text: str, key: Path) -> str:
    """`ssh-keygen -Y sign -n comunicast-approval -f KEY` over the statement line."""
    program = ssh_keygen()
    with tempfile.TemporaryDirectory(prefix="comunicast-sign-") as folder:
        data = Path(folder) / "statement"
        data.write_text(statement_text + "\n", encoding="utf-8")
        try:
            # The terminal stays attached: ssh-keygen asks a key's passphrase there.
            result = subprocess.run(
                [program, "-Y", "sign", "-n", NAMESPACE, "-f", str(key), str(data)],
                capture_output=True, timeout=300, check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ApprovalError(_("ssh-keygen could not sign: {reason}").format(
                reason=exc)) from None
        signature = Path(str(data) + ".sig")
        if result.returncode != 0 or not signature.is_file():
            reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ApprovalError(
                _("ssh-keygen could not sign with {key}: {reason}").format(
                    key=key, reason=reason[-1] if reason else result.returncode),
                hint=_("--key takes the private key file (or its .pub with the key in "
                       "ssh-agent)"),
            )
        return signature.read_text(encoding="utf-8")


def default_key(approver: Approver, home: Path | None = None) -> Path | None:
    """The approver's private key among ~/.ssh/id_*, found by its .pub matching the config."""
    folder = (home or Path.home()) / ".ssh"
    wanted = (approver.key or "").split()[:2]
    for name in DEFAULT_KEYS:
        public = folder / f"{name}.pub"
        try:
            if public.read_text(encoding="utf-8").split()[:2] == wanted:
                return folder / name
        except (OSError, UnicodeDecodeError):
            continue
    return None


# -- who wrote it ------------------------------------------------------------------------------


def authors_of(draft: Draft) -> list[str]:
    """Who wrote the draft: its `author:` and the author of the last commit that changed it.

    Both count for four eyes: whoever changed the text last may not approve it either. Without
    git, outside a repository or for an untracked file, the `author:` field alone.
    """
    authors = [draft.author] if draft.author else []
    committer = git_author(draft.path)
    if committer and not any(same_person(committer, a) for a in authors):
        authors.append(committer)
    return authors


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


# -- judging -----------------------------------------------------------------------------------


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
                      min_approvals=config.approval.min_approvals, draft=draft)
    files = found.of(draft.id)
    if not files:
        return verdict
    writers = list(authors) if authors is not None else authors_of(draft)
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


# -- publishing --------------------------------------------------------------------------------


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


# -- approving ---------------------------------------------------------------------------------


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
    verifier = Verifier(config)
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
        out = [judge(config, d, revisions[d.path], found, verifier) for d in drafts]
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
