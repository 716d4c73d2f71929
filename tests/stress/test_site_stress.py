"""Long trial (`pytest -m stress`): `comunicast site` killed with SIGKILL at random moments.

Each trial publishes one more draft, starts a real `comunicast site`, kills it after a random
delay, and checks that the site folder is whole: exactly the files its manifest lists, each with
the bytes a build from scratch gives for that state (the previous one or the new one).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import comunicast_exe
from publish_support import draft, run
from site_support import make_site_project

pytestmark = pytest.mark.stress


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_sigkill_during_site_builds_20_trials(tmp_path: Path) -> None:
    project = make_site_project(tmp_path / "p")
    root = project.root
    assert run(root, "site").returncode == 0
    rng = random.Random(1111)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMUNICAST_")}
    outcomes = {"old": 0, "new": 0}
    for n in range(20):
        before = _tree(root / "site")
        draft(root, f"nuovo-{n:02d}", title=f"Avviso nuovo {n}", body=f"Testo nuovo numero {n}.")
        assert run(root, "publish", f"messages/nuovo-{n:02d}.md", "--yes").returncode == 0
        child = subprocess.Popen([*comunicast_exe(), "site"], cwd=root, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 1.5))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        after = _tree(root / "site")
        manifest = json.loads(after[".comunicast-site.json"])
        assert set(manifest["files"]) == set(after) - {".comunicast-site.json"}, n
        fresh = tmp_path / f"fresh-{n}"
        assert run(root, "site", "--out", str(fresh)).returncode == 0
        if after == before:
            outcomes["old"] += 1
        else:
            assert after == _tree(fresh), n  # the new site, whole
            outcomes["new"] += 1
        assert run(root, "site").returncode == 0  # and the next build finishes the job
        assert _tree(root / "site") == _tree(fresh)
    print(outcomes)
    assert outcomes["old"] > 0  # some kills came before the swap
