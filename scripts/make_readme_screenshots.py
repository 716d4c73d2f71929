#!/usr/bin/env python3
"""Regenerate the README's screenshots of the archive site and of the desk.

Usage: python scripts/make_readme_screenshots.py

Copies the repository's comunicast.yaml and messages/ into a temporary folder, publishes every
example draft with the real command (`comunicast publish messages/ --yes`: the `archivio` outbox
writes its files and its desk), builds the site (`comunicast site`), serves the folder on
127.0.0.1 and photographs four pages in headless Chromium (Debian's chromium and
chromium-driver, selenium): docs/site-archivio.png (the index), docs/site-messaggio.png (a
message with its image), docs/site-iscriviti.png and docs/desk.png.

The example drafts use emoji (🎄, ⚠️): install a colour emoji font first, as a reader's phone has
one (Debian: `apt-get install fonts-noto-color-emoji`), or Chromium leaves a blank in their place.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BASE_URL = "https://www.comune.cremona.it/notizie/"
#: (file in docs/, page, width in CSS pixels, most of its height to keep)
SHOTS = [
    ("site-archivio.png", "site/index.html", 1000, 1500),
    ("site-messaggio.png", "site/*/*/2027-01-07-corso-garibaldi-lavori.html", 1000, 1500),
    ("site-iscriviti.png", "site/iscriviti.html", 1000, 900),
    ("desk.png", "outbox/index.html", 1000, 1600),
]


def _comunicast(*args: str, cwd: Path) -> None:
    exe = Path(sys.executable).parent / "comunicast"
    command = [str(exe)] if exe.exists() else [shutil.which("comunicast") or "comunicast"]
    subprocess.run([*command, *args], cwd=cwd, check=True, capture_output=True, text=True)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _browser(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--hide-scrollbars",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = shutil.which("chromedriver") or "chromedriver"
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def _shoot(browser: Any, url: str, out: Path, width: int, max_height: int) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    browser.get(url)
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; document.fonts.ready.then(() => done());")
    height = min(max_height, int(browser.execute_script(
        "return document.documentElement.scrollHeight;")))
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    out.write_bytes(base64.b64decode(shot["data"]))
    print(f"{out.relative_to(ROOT)}: {width}×{height}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "comune"
        project.mkdir()
        config = (ROOT / "comunicast.yaml").read_text(encoding="utf-8")
        if "\nsite:" not in config:
            config += f"\nsite:\n  base_url: {BASE_URL}\n"
        (project / "comunicast.yaml").write_text(config, encoding="utf-8")
        shutil.copytree(ROOT / "messages", project / "messages")
        _comunicast("publish", "messages/", "--yes", cwd=project)
        _comunicast("site", cwd=project)
        handler = partial(_Quiet, directory=str(project))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        browser = _browser(Path(tmp) / "profile")
        try:
            base = f"http://127.0.0.1:{httpd.server_address[1]}"
            for name, page, width, height in SHOTS:
                [found] = project.glob(page)  # message pages sit under the month they were sent
                url = f"{base}/{found.relative_to(project).as_posix()}"
                _shoot(browser, url, DOCS / name, width, height)
        finally:
            browser.quit()
            httpd.shutdown()


if __name__ == "__main__":
    main()
