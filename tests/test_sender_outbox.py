"""`outbox`: one JSON file per publication, its image beside it, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sender_support import jpeg, message, png, project_config

from comunicast.senders import outbox as outbox_module
from comunicast.senders.base import NotDelivered
from comunicast.senders.outbox import OutboxSender, write_atomic
from comunicast.senders.registry import create_sender, installed_adapters


def _sender(root: Path, path: str = "outbox") -> OutboxSender:
    sender = create_sender(
        project_config(root, {"archivio": {"adapter": "outbox", "path": path}}), "archivio"
    )
    assert isinstance(sender, OutboxSender)
    return sender


def test_registered_with_its_limits() -> None:
    assert installed_adapters()["outbox"].adapter is OutboxSender
    assert OutboxSender.limits.target == "whatsapp" and OutboxSender.limits.max_caption == 1024


def test_writes_the_publication_relative_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "project"
    monkeypatch.chdir(tmp_path)  # not the project folder: the path is relative to comunicast.yaml
    msg = message("*Ponte chiuso*\n\nDal 2 al 5 dicembre.", sender="archivio")
    receipt = _sender(root).send(msg)
    file = root / "outbox" / "2026-12-01-ponte.archivio.json"
    assert receipt.remote_id == file.name
    data = json.loads(file.read_text(encoding="utf-8"))
    assert data["draft_id"] == msg.draft_id and data["sender"] == "archivio"
    assert data["revision"] == msg.revision and data["target"] == "whatsapp"
    assert data["text"] == msg.text and data["image"] is None
    assert data["title"] == msg.title and data["kind"] == "avviso" and data["links"] == msg.links
    assert data["created_at"][-6:] in ("+01:00", "+02:00")  # Europe/Rome, with its offset
    assert sorted(p.name for p in (root / "outbox").iterdir()) == [file.name]  # no temp files


@pytest.mark.parametrize(("make", "suffix"), [(jpeg, ".jpg"), (png, ".png")])
def test_copies_the_image_beside_it(tmp_path: Path, make: object, suffix: str) -> None:
    image = make(tmp_path / "src" / "mappa.bin")  # type: ignore[operator]
    _sender(tmp_path / "p").send(message(sender="archivio", image=image))
    folder = tmp_path / "p" / "outbox"
    data = json.loads((folder / "2026-12-01-ponte.archivio.json").read_text(encoding="utf-8"))
    assert data["image"] == f"2026-12-01-ponte.archivio{suffix}"
    assert data["image_alt"] == "Mappa dei percorsi alternativi"
    assert (folder / data["image"]).read_bytes() == image.read_bytes()


def test_sending_again_replaces_the_file(tmp_path: Path) -> None:
    sender = _sender(tmp_path)
    sender.send(message("prima", sender="archivio", revision="r1:a"))
    sender.send(message("seconda", sender="archivio", revision="r1:b"))
    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1
    assert json.loads(files[0].read_text(encoding="utf-8"))["text"] == "seconda"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = _sender(tmp_path)
    sender.send(message("prima", sender="archivio"))
    folder = tmp_path / "outbox"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox_module.os, "fsync", full_disk)
    with pytest.raises(NotDelivered, match="No space left on device") as info:
        sender.send(message("seconda", sender="archivio"))
    assert not info.value.retryable and info.value.__context__ is None
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_an_unwritable_folder_is_not_delivered(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where the folder should be")
    with pytest.raises(NotDelivered, match="cannot write"):
        _sender(tmp_path, "blocked").send(message(sender="archivio"))


def test_write_atomic_replaces_in_one_step(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    target.write_bytes(b"old")
    inode_before = os.stat(target).st_ino
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and os.stat(target).st_ino != inode_before
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_files_get_the_usual_permissions_not_private_temp_ones(tmp_path: Path) -> None:
    # Colleagues paste from the outbox: its files are as readable as any file the user creates.
    old = os.umask(0o022)
    try:
        image = png(tmp_path / "src" / "mappa.png")
        _sender(tmp_path / "p").send(message(sender="archivio", image=image))
    finally:
        os.umask(old)
    folder = tmp_path / "p" / "outbox"
    modes = {p.suffix: p.stat().st_mode & 0o777 for p in folder.iterdir()}
    assert modes == {".json": 0o644, ".png": 0o644}
