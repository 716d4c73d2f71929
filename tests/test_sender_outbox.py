"""`outbox`: one JSON file per publication, its image beside it, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from publish_support import draft, make_project, run, run_json
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
    # No temp files; the desk (index.html) is kept beside the publications.
    assert sorted(p.name for p in (root / "outbox").iterdir()) == [file.name, "index.html"]


@pytest.mark.parametrize(("make", "suffix"), [(jpeg, ".jpg"), (png, ".png")])
def test_copies_the_image_beside_it(tmp_path: Path, make: object, suffix: str) -> None:
    image = make(tmp_path / "src" / "mappa.bin")  # type: ignore[operator]
    _sender(tmp_path / "p").send(message(sender="archivio", image=image))
    folder = tmp_path / "p" / "outbox"
    data = json.loads((folder / "2026-12-01-ponte.archivio.json").read_text(encoding="utf-8"))
    assert data["image"] == f"2026-12-01-ponte.archivio{suffix}"
    assert data["image_alt"] == "Mappa dei percorsi alternativi"
    assert (folder / data["image"]).read_bytes() == image.read_bytes()


REV_A = "v1:" + "a1b2c3d4e5f6" + "0" * 52
REV_B = "v1:" + "b" * 64


def _texts(folder: Path) -> dict[str, Any]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(folder.iterdir())
        if p.suffix == ".json"
    }


def test_sending_the_same_revision_again_replaces_the_file(tmp_path: Path) -> None:
    # A retry (idempotency=True): the same publication, written again, no second file.
    sender = _sender(tmp_path)
    sender.send(message("prima", sender="archivio", revision=REV_A))
    sender.send(message("prima", sender="archivio", revision=REV_A))
    files = [p for p in (tmp_path / "outbox").iterdir() if p.name != "index.html"]
    assert [p.name for p in files] == ["2026-12-01-ponte.archivio.json"]
    assert json.loads(files[0].read_text(encoding="utf-8"))["text"] == "prima"


def test_a_new_revision_keeps_the_published_one_aside(tmp_path: Path) -> None:
    sender = _sender(tmp_path)
    sender.send(message("prima", sender="archivio", revision=REV_A))
    receipt = sender.send(message("seconda", sender="archivio", revision=REV_B))
    folder = tmp_path / "outbox"
    assert receipt.remote_id == "2026-12-01-ponte.archivio.json"
    docs = _texts(folder)
    assert sorted(docs) == [
        "2026-12-01-ponte.archivio.a1b2c3d4e5f6.json",
        "2026-12-01-ponte.archivio.json",
    ]
    assert docs["2026-12-01-ponte.archivio.json"]["text"] == "seconda"
    assert docs["2026-12-01-ponte.archivio.json"]["revision"] == REV_B
    archived = docs["2026-12-01-ponte.archivio.a1b2c3d4e5f6.json"]
    assert archived["text"] == "prima" and archived["revision"] == REV_A
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files


def test_a_new_revision_without_image_leaves_no_stale_image(tmp_path: Path) -> None:
    image = jpeg(tmp_path / "src" / "mappa.jpg")
    sender = _sender(tmp_path / "p")
    sender.send(message("prima", sender="archivio", image=image, revision=REV_A))
    sender.send(message("seconda", sender="archivio", revision=REV_B))
    folder = tmp_path / "p" / "outbox"
    assert sorted(p.name for p in folder.iterdir()) == [
        "2026-12-01-ponte.archivio.a1b2c3d4e5f6.jpg",
        "2026-12-01-ponte.archivio.a1b2c3d4e5f6.json",
        "2026-12-01-ponte.archivio.json",
        "index.html",
    ]
    docs = _texts(folder)
    assert docs["2026-12-01-ponte.archivio.json"]["image"] is None
    archived = docs["2026-12-01-ponte.archivio.a1b2c3d4e5f6.json"]
    assert archived["text"] == "prima"
    assert archived["image"] == "2026-12-01-ponte.archivio.a1b2c3d4e5f6.jpg"
    assert (folder / archived["image"]).read_bytes() == image.read_bytes()


def test_a_new_revision_with_another_image_keeps_both(tmp_path: Path) -> None:
    old = jpeg(tmp_path / "src" / "mappa.jpg")
    new = png(tmp_path / "src" / "nuova.png")
    sender = _sender(tmp_path / "p")
    sender.send(message("prima", sender="archivio", image=old, revision=REV_A))
    sender.send(message("seconda", sender="archivio", image=new, revision=REV_B))
    folder = tmp_path / "p" / "outbox"
    assert sorted(p.name for p in folder.iterdir()) == [
        "2026-12-01-ponte.archivio.a1b2c3d4e5f6.jpg",
        "2026-12-01-ponte.archivio.a1b2c3d4e5f6.json",
        "2026-12-01-ponte.archivio.json",
        "2026-12-01-ponte.archivio.png",  # the old .jpg is not left under the current name
        "index.html",
    ]
    docs = _texts(folder)
    current = docs["2026-12-01-ponte.archivio.json"]
    assert current["image"] == "2026-12-01-ponte.archivio.png"
    assert (folder / current["image"]).read_bytes() == new.read_bytes()
    archived = docs["2026-12-01-ponte.archivio.a1b2c3d4e5f6.json"]
    assert (folder / archived["image"]).read_bytes() == old.read_bytes()


def test_three_revisions_keep_every_published_text(tmp_path: Path) -> None:
    rev_c = "v1:" + "c" * 64
    sender = _sender(tmp_path)
    for text, revision in (("prima", REV_A), ("seconda", REV_B), ("terza", rev_c)):
        sender.send(message(text, sender="archivio", revision=revision))
    docs = _texts(tmp_path / "outbox")
    assert {name: doc["text"] for name, doc in docs.items()} == {
        "2026-12-01-ponte.archivio.a1b2c3d4e5f6.json": "prima",
        "2026-12-01-ponte.archivio.bbbbbbbbbbbb.json": "seconda",
        "2026-12-01-ponte.archivio.json": "terza",
    }


def test_an_unreadable_old_file_is_kept_aside_too(tmp_path: Path) -> None:
    # Edited by hand into something that is not JSON: still not thrown away.
    folder = tmp_path / "outbox"
    folder.mkdir()
    (folder / "2026-12-01-ponte.archivio.json").write_bytes(b"{ testo incollato a mano")
    _sender(tmp_path).send(message("nuova", sender="archivio", revision=REV_B))
    kept = [p for p in folder.iterdir()
            if p.name not in ("2026-12-01-ponte.archivio.json", "index.html")]
    assert [p.read_bytes() for p in kept] == [b"{ testo incollato a mano"]
    assert kept[0].name.startswith("2026-12-01-ponte.archivio.") and kept[0].suffix == ".json"


def test_an_old_revision_is_never_used_as_a_path(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    old = {"revision": "v1:../../escape", "text": "vecchio", "image": "../../secret.jpg"}
    (folder / "2026-12-01-ponte.archivio.json").write_text(json.dumps(old), encoding="utf-8")
    (tmp_path / "secret.jpg").write_bytes(b"not ours")
    _sender(tmp_path).send(message("nuova", sender="archivio", revision=REV_B))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comunicast.yaml", "outbox", "secret.jpg"]
    assert (tmp_path / "secret.jpg").read_bytes() == b"not ours"
    docs = _texts(folder)
    assert len(docs) == 2 and docs["2026-12-01-ponte.archivio.json"]["text"] == "nuova"
    [archived] = [d for n, d in docs.items() if n != "2026-12-01-ponte.archivio.json"]
    assert archived["text"] == "vecchio" and archived["image"] is None


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
    assert modes == {".json": 0o644, ".png": 0o644, ".html": 0o644}


def test_republish_through_the_cli_keeps_both_texts(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"archivio": {"adapter": "outbox", "path": "outbox/"}})
    path = draft(root, "ponte", body="Il ponte sul Po resta chiuso dal 2 al 5 dicembre per lavori.")
    code, doc, err = run_json(root, "publish", str(path))
    assert code == 0 and doc["publications"][0]["state"] == "sent", err
    draft(root, "ponte", body="Il ponte sul Po resta chiuso dal 2 al 6 dicembre per lavori.")
    code, doc, err = run_json(root, "publish", str(path), "--republish")
    assert code == 0 and doc["publications"][0]["state"] == "sent", err

    docs = _texts(root / "outbox")
    assert len(docs) == 2
    current = docs.pop("ponte.archivio.json")
    [(name, archived)] = docs.items()
    assert "2 al 6 dicembre" in current["text"] and "2 al 5 dicembre" in archived["text"]
    assert name == f"ponte.archivio.{archived['revision'].split(':')[1][:12]}.json"

    result = run(root, "log", "--format", "json")
    assert result.returncode == 0, result.stderr
    logged = {(r["draft_id"], r["state"], r["revision"]) for r in json.loads(result.stdout)}
    assert logged == {
        ("ponte", "sent", archived["revision"]),
        ("ponte", "sent", current["revision"]),
    }
