"""The command's fast exit (os._exit after flushing) must not lose what a sender plugin leaves
to the end of the process: its atexit handlers and the threads it started, as Python runs and
waits for them at a normal exit."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import MINIMAL_CONFIG, run_cli, write

ARCHIVING_PLUGIN = '''
import atexit
import os
import threading
import time
from pathlib import Path
from typing import ClassVar

from comunicast.senders.base import Limits, Receipt, SenderOptions

class ArchiveOptions(SenderOptions):
    folder: str

class ArchiveSender:
    """Sends at once; copies to an archive at exit, and hands a receipt to a slow thread."""
    name: ClassVar[str] = "archive"
    limits: ClassVar[Limits] = Limits(target="plain", images=False)
    Options: ClassVar[type[SenderOptions]] = ArchiveOptions

    def __init__(self, instance, options, config):
        self.folder = Path(options.folder)

    def send(self, message):
        folder = self.folder
        atexit.register(lambda: (folder / "at-exit.txt").write_text("archived"))

        def slow() -> None:
            time.sleep(0.3)
            (folder / "from-thread.txt").write_text("delivered")

        threading.Thread(target=slow).start()  # not a daemon: Python waits for it
        return Receipt(remote_id="archive-1")

    def close(self):
        pass
'''


def _site(root: Path) -> Path:
    site = root / "site"
    dist = site / "cc_archive_sender-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cc-archive-sender\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[comunicast.senders]\narchive = cc_archive:ArchiveSender\n")
    (site / "cc_archive.py").write_text(textwrap.dedent(ARCHIVING_PLUGIN))
    return site


def test_a_plugins_atexit_handlers_and_threads_run_before_the_process_ends(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path)
    root = tmp_path / "project"
    archive = tmp_path / "archive"
    archive.mkdir()
    write(root / "comunicast.yaml", MINIMAL_CONFIG.replace(
        "default_senders: [console]",
        f"  archivio:\n    adapter: archive\n    folder: {archive}\ndefault_senders: [archivio]"))
    write(root / "messages" / "avviso.md",
          "---\ntitle: Uffici chiusi\nkind: avviso\n---\nGli uffici restano chiusi lunedì.\n")
    result = run_cli(["publish", "messages/avviso.md", "--yes", "--format", "json"], root,
                     env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    [publication] = json.loads(result.stdout)["publications"]
    assert publication["state"] == "sent"
    assert (archive / "at-exit.txt").read_text() == "archived"
    assert (archive / "from-thread.txt").read_text() == "delivered"
