"""Signatures with OpenSSH: `ssh-keygen -Y sign` and `-Y verify`, never cryptography of ours."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from comunicast.approvals.files import NAMESPACE, ApprovalFile
from comunicast.config import approver_slug
from comunicast.errors import ApprovalError, ConfigError
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Approver, Config

#: Where `approve` looks for the approver's private key when --key is not given.
DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_ed25519_sk", "id_ecdsa_sk", "id_rsa")
INSTALL_HINT = "apt-get install openssh-client"


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

    With `remember` (the listings `approvals` and `check`, never `publish`), what ssh-keygen
    answered is kept in the ledger, keyed by a hash of everything it judged (namespace,
    principal, key, statement, signature), so a long history is not verified again at each
    listing. `publish` never trusts it: whoever could write the ledger could make a forged
    approval count there.
    """

    def __init__(self, config: Config, *, remember: bool = False) -> None:
        self.config = config
        self.remember = remember
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
        if todo and self.remember:
            known = self._remembered([self._digest(a, who) for a, who in todo])
            for a, who in todo:
                ok = known.get(self._digest(a, who))
                if ok is not None:
                    self._memo[self._key(a, who)] = None if ok else _not_theirs(who)
            todo = [(a, who) for a, who in todo if self._key(a, who) not in self._memo]
        if todo:
            program = ssh_keygen()
            allowed = self._allowed_signers()
            if len(todo) == 1:
                results = [self._run(program, allowed, *todo[0])]
            else:
                with ThreadPoolExecutor(max_workers=min(8, len(todo))) as pool:
                    results = list(pool.map(lambda p: self._run(program, allowed, *p), todo))
            answered = []
            for (a, who), (result, definite) in zip(todo, results, strict=True):
                self._memo[self._key(a, who)] = result
                if definite:
                    answered.append((self._digest(a, who), result is None))
            if self.remember:
                self._store(answered)
        return [self._memo[self._key(a, who)] for a, who in pairs]

    @staticmethod
    def _digest(approval: ApprovalFile, approver: Approver) -> str:
        parts = [NAMESPACE, approver_slug(approver.name), approver.key or "",
                 approval.statement, approval.signature or ""]
        return "sig:" + hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()

    def _remembered(self, keys: list[str]) -> dict[str, bool]:
        from comunicast.ledger import Ledger

        try:
            ledger = Ledger.open_existing(self.config.ledger_path)
        except ConfigError:
            return {}  # a listing works without its cache
        if ledger is None:
            return {}
        with ledger:
            return ledger.approval_checks_get(keys)

    def _store(self, answered: list[tuple[str, bool]]) -> None:
        from comunicast.ledger import Ledger

        if not answered:
            return
        try:
            with Ledger.open(self.config.ledger_path, busy_timeout_ms=2000) as ledger:
                ledger.approval_checks_put(answered)
        except (ConfigError, sqlite3.Error):
            return  # a read-only state folder, a busy ledger: only the cache is lost

    @staticmethod
    def _key(approval: ApprovalFile, approver: Approver) -> tuple[str, str, str]:
        return (approval.statement, approval.signature or "", approver.key or "")

    def _run(self, program: str, allowed: Path, approval: ApprovalFile,
             approver: Approver) -> tuple[str | None, bool]:
        """(why it does not verify, or None; whether ssh-keygen gave a definite answer)."""
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
            return _("ssh-keygen could not check the signature: {reason}").format(
                reason=exc), False
        finally:
            Path(sig).unlink(missing_ok=True)
        if result.returncode == 0:
            return None, True
        return _not_theirs(approver), True


def _not_theirs(approver: Approver) -> str:
    return _("the signature is not {name}'s (altered, copied from another approval or signed "
             "with another key)").format(name=approver.name)


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

