"""`outbox`: one JSON file per publication in a folder, ready to paste into the Channel by hand.

Files are written atomically (a temporary file in the same folder, fsync, rename): a reader or a
crash sees the whole publication or nothing. The image copy is written before the JSON file, so
a JSON file always has its image beside it. A new revision of a publication first copies the
previous one aside, under a name with its revision's hash: the folder keeps every text it held.

Corrections (SPEC §10) leave the publication's file as it is and add, beside it, a correction
file `<draft_id>.<sender>.correction.<hash12>.json` (the new text to paste over the old one)
or a withdrawal file `<draft_id>.<sender>.withdrawal.json` (the update to delete by hand).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from comunicast.i18n import _
from comunicast.senders.base import (
    DAY,
    WHATSAPP,
    Edit,
    Limits,
    Message,
    NotDelivered,
    Receipt,
    SenderOptions,
    Withdrawal,
)
from comunicast.senders.media import read_image

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.site.desk import Desk


#: Seconds between two refreshes of the desk while one run writes many files.
DESK_INTERVAL = 0.25
#: The suffixes `read_image` gives image copies.
_IMAGE_SUFFIXES = (".jpg", ".png")


class OutboxOptions(SenderOptions):
    """Options of an `outbox` sender."""

    path: str = Field(
        default="outbox", min_length=1, description="Folder, relative to comunicast.yaml"
    )
    confirm: bool = Field(
        default=False,
        description="A publication stays 'to paste' until a person confirms it with "
        "`comunicast resolve DRAFT --sender NAME --as sent`",
    )


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a part.

    `durable=False` skips the fsyncs: still atomic for readers and crashes of the process, for
    files that are rebuilt from others (the desk).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes it private (0600); give the usual mode
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        _fsync_dir(path.parent)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform can open a folder.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class OutboxSender:
    """Writes `<draft_id>.<sender>.json` (and the image copy) into the configured folder."""

    name: ClassVar[str] = "outbox"
    # Writing the same publication again replaces its file: retrying cannot duplicate it.
    # Its text is pasted into the WhatsApp Channel by hand, where admins may edit an update
    # for 30 days: a correction file later than that could not be carried out.
    limits: ClassVar[Limits] = replace(
        WHATSAPP, idempotency=True, can_edit=True, can_withdraw=True, edit_window=30 * DAY,
    )
    Options: ClassVar[type[SenderOptions]] = OutboxOptions

    def __init__(self, instance: str, options: Any, config: Config) -> None:
        from comunicast.senders.registry import coerce_options

        self.instance = instance
        self.options: OutboxOptions = coerce_options(type(self), options, config, instance)
        self.folder = config.resolve_path(self.options.path)
        self._tz = config.tz
        self._desk: Desk | None = None
        self._desk_at = float("-inf")
        self._desk_due = False
        from comunicast.i18n import current_language

        self._language = current_language()
        self._organization = config.organization.name

    def __repr__(self) -> str:
        return f"<OutboxSender {self.instance!r} {self.folder}>"

    def send(self, message: Message) -> Receipt:
        """Write the publication; the remote id is the JSON file's name."""
        what = f"outbox {self.instance}"
        stem = f"{message.draft_id}.{message.sender}"
        target = self.folder / f"{stem}.json"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._keep_aside(stem, target, message.revision)
            image_name = None
            if message.image is not None:
                image = read_image(message.image, self.limits.max_image_bytes, what)
                image_name = f"{stem}{image.suffix}"
                write_atomic(self.folder / image_name, image.data)
            for suffix in _IMAGE_SUFFIXES:  # no stale image beside the new JSON file
                if f"{stem}{suffix}" != image_name:
                    (self.folder / f"{stem}{suffix}").unlink(missing_ok=True)
            document = {
                "version": 1,
                "draft_id": message.draft_id,
                "sender": message.sender,
                "revision": message.revision,
                "target": message.target,
                "kind": message.kind,
                "title": message.title,
                "text": message.text,
                "image": image_name,
                "image_alt": message.image_alt,
                "links": list(message.links),
                "publish_at": message.publish_at.isoformat() if message.publish_at else None,
                "created_at": datetime.now(self._tz).isoformat(timespec="seconds"),
            }
            data = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
            write_atomic(target, data.encode("utf-8"))
        except OSError as exc:
            # Raised outside the handler's chain: nothing was renamed into place, so nothing is out.
            failure = NotDelivered(
                _("{what}: cannot write {path}: {reason}").format(
                    what=what,
                    path=exc.filename or self.folder,
                    reason=exc.strerror or type(exc).__name__,
                )
            )
        else:
            self.refresh_desk(force=False)
            return Receipt(remote_id=target.name, to_paste=self.options.confirm)
        raise failure

    def refresh_desk(self, *, force: bool = True) -> None:
        """Bring the folder's `index.html` up to date; the publication is written either way.

        A run that writes many files in a row refreshes the page at most every
        `DESK_INTERVAL` seconds and once more when it closes the sender, instead of after
        each file (which made a run of N files cost N² entries written).
        """
        import time

        from comunicast.site.desk import Desk

        now = time.monotonic()
        if not force and now - self._desk_at < DESK_INTERVAL:
            self._desk_due = True
            return
        if self._desk is None:
            self._desk = Desk(self.folder, sender=self.instance, language=self._language,
                              organization=self._organization)
        self._desk_due = False
        try:
            self._desk.refresh()
        except OSError:  # a desk that cannot be written must not turn a written file into a failure
            pass
        self._desk_at = time.monotonic()

    def mark_pasted(self, draft_id: str, at: datetime) -> bool:
        """Record in the publication's JSON file that a person pasted it; False if it is gone."""
        path = self.folder / f"{draft_id}.{self.instance}.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(document, dict):
            return False
        document["pasted_at"] = at.astimezone(self._tz).isoformat(timespec="seconds")
        data = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        write_atomic(path, data.encode("utf-8"))
        self.refresh_desk()
        return True

    def _keep_aside(self, stem: str, target: Path, revision: str) -> None:
        """Copy the file of another revision (and its image) to `<stem>.<hash>.*` before replacing it.

        The same revision again is a retry and is simply replaced. Copies are written atomically
        and before the new publication, so a crash at any point loses no published text.
        """
        try:
            raw = target.read_bytes()
        except FileNotFoundError:
            return
        try:
            old = json.loads(raw.decode("utf-8"))
        except ValueError:  # not UTF-8 or not JSON
            old = None
        if not isinstance(old, dict):
            # Not a publication as this adapter writes it: kept byte for byte, named by its content.
            write_atomic(self.folder / f"{stem}.{hashlib.sha256(raw).hexdigest()[:12]}.json", raw)
            return
        if old.get("revision") == revision:
            return
        tag = _revision_tag(old.get("revision"))
        image, old["image"] = old.get("image"), None
        # Only an image copy this adapter names: the field is never used as a path.
        if image in {f"{stem}{suffix}" for suffix in _IMAGE_SUFFIXES}:
            try:
                data = (self.folder / image).read_bytes()
            except FileNotFoundError:
                pass
            else:
                old["image"] = f"{stem}.{tag}{Path(image).suffix}"
                write_atomic(self.folder / old["image"], data)
        text = json.dumps(old, ensure_ascii=False, indent=2) + "\n"
        write_atomic(self.folder / f"{stem}.{tag}.json", text.encode("utf-8"))

    def edit(self, edit: Edit) -> Receipt:
        """Write the correction file; the publication's own file stays as it was sent."""
        message = edit.message
        stem = f"{message.draft_id}.{message.sender}"
        name = f"{stem}.correction.{_revision_tag(message.revision)}.json"
        image = next((f"{stem}{suffix}" for suffix in _IMAGE_SUFFIXES
                      if (self.folder / f"{stem}{suffix}").is_file()), None)
        return self._write(name, {
            "version": 1,
            "action": "edit",
            "draft_id": message.draft_id,
            "sender": message.sender,
            "revision": message.revision,
            "replaces": edit.remote_id,
            "replaces_revision": edit.replaces_revision,
            "target": message.target,
            "kind": message.kind,
            "title": message.title,
            "text": message.text,
            "image": image if message.image is not None else None,
            "image_alt": message.image_alt,
            "links": list(message.links),
            "created_at": datetime.now(self._tz).isoformat(timespec="seconds"),
        })

    def withdraw(self, withdrawal: Withdrawal) -> Receipt:
        """Write the withdrawal file: which update to delete by hand, and why."""
        name = f"{withdrawal.draft_id}.{withdrawal.sender}.withdrawal.json"
        return self._write(name, {
            "version": 1,
            "action": "withdraw",
            "draft_id": withdrawal.draft_id,
            "sender": withdrawal.sender,
            "revision": withdrawal.revision,
            "replaces": withdrawal.remote_id,
            "reason": withdrawal.reason,
            "text": withdrawal.text,
            "created_at": datetime.now(self._tz).isoformat(timespec="seconds"),
        })

    def _write(self, name: str, document: dict[str, Any]) -> Receipt:
        what = f"outbox {self.instance}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            data = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
            write_atomic(self.folder / name, data.encode("utf-8"))
        except OSError as exc:
            failure = NotDelivered(
                _("{what}: cannot write {path}: {reason}").format(
                    what=what, path=exc.filename or self.folder,
                    reason=exc.strerror or type(exc).__name__,
                )
            )
        else:
            # The desk lists correction and withdrawal files too (what to paste, what to delete).
            self.refresh_desk(force=False)
            return Receipt(remote_id=name)
        raise failure

    def close(self) -> None:
        """Write the desk if a refresh was put off."""
        if self._desk_due:
            self.refresh_desk()


def _revision_tag(revision: object) -> str:
    """The first 12 hex digits of a revision's hash (`v1:<hex>`); safe in a file name."""
    digest = str(revision).rpartition(":")[2]
    if not re.fullmatch(r"[0-9a-f]{12,}", digest):
        digest = hashlib.sha256(str(revision).encode("utf-8")).hexdigest()
    return digest[:12]
