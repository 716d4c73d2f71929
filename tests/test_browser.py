"""The site and the desk in a real headless Chromium: axe-core, phone width, the copy button.

Needs Debian's `chromium` and `chromium-driver`, `selenium` (test extra) and `axe-core` from npm
(`.ci/run` installs all of them into place; `AXE_CORE_JS` may point at another axe.min.js).
Missing ones skip the tests on a developer's machine and fail them when CI=true.
Run with `python -m pytest -m browser`.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from publish_support import run
from site_support import SiteProject, make_site_project

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
AXE = Path(os.environ.get("AXE_CORE_JS")
           or REPO / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROME_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-dev-shm-usage", "--window-size=1280,900",
]


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing; .ci/run installs it")
    pytest.skip(f"{what} is missing (.ci/run installs it)")


def _programs() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        _missing("Debian's chromium and chromium-driver")
    assert chromium is not None and driver is not None
    return chromium, driver


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> SiteProject:
    built = make_site_project(tmp_path_factory.mktemp("browser") / "project")
    # A correction and a withdrawal on the desk (SPEC §10), as staff would find them.
    done = run(built.root, "publish", "messages/avviso-03.md", "--edit", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    done = run(built.root, "withdraw", "avviso-05", "--reason", "Avviso superato")
    assert done.returncode == 0, done.stdout + done.stderr
    done = run(built.root, "site")
    assert done.returncode == 0, done.stderr
    return built


@pytest.fixture(scope="module")
def server(project: SiteProject) -> Iterator[str]:
    """The project folder (site/ and outbox/) over http://127.0.0.1:PORT."""
    handler = partial(_Quiet, directory=str(project.root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, driver = _programs()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium (pip install -e '.[test]')")
    if not AXE.is_file():
        _missing(f"axe-core ({AXE})")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_script_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()


def _axe(browser: Any, url: str) -> list[dict[str, Any]]:
    browser.get(url)
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.html)})))).catch(e => done([{id: 'error', help: String(e)}]));",
        WCAG,
    )
    return list(result)


def _pages(project: SiteProject) -> list[str]:
    site = project.root / "site"
    [image_page] = site.glob(f"*/*/{project.deleted_id}.html")
    [markup_page] = site.glob(f"*/*/{project.markup_id}.html")
    return [
        "site/index.html", "site/page/2.html", "site/iscriviti.html",
        image_page.relative_to(project.root).as_posix(),
        markup_page.relative_to(project.root).as_posix(),
        "outbox/index.html",
    ]


def test_axe_finds_no_wcag_21_aa_violation(project: SiteProject, server: str,
                                          browser: Any) -> None:
    found = {page: _axe(browser, f"{server}/{page}") for page in _pages(project)}
    assert found == {page: [] for page in found}


def test_axe_does_report_a_violation(project: SiteProject, server: str, browser: Any) -> None:
    # The check above can fail: a page without lang, with an image without alt text.
    (project.root / "bad.html").write_text(
        "<!DOCTYPE html><title>x</title><img src='site/media/none.jpg'>"
        "<p style='color:#bbb;background:#fff'>testo chiaro</p>", encoding="utf-8")
    ids = {v["id"] for v in _axe(browser, f"{server}/bad.html")}
    assert {"html-has-lang", "image-alt", "color-contrast"} <= ids


def test_no_horizontal_scrolling_at_360_pixels(project: SiteProject, server: str,
                                               browser: Any) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    try:
        for page in _pages(project):
            browser.get(f"{server}/{page}")
            widths = browser.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth,"
                " document.body.scrollWidth];")
            assert widths[1] == 360, page
            assert max(widths[0], widths[2]) <= 360, (page, widths)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_copy_text_puts_the_json_text_on_the_clipboard_byte_for_byte(
    project: SiteProject, server: str, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    _open_desk(browser, server)
    for draft_id in (project.markup_id, project.deleted_id, "avviso-01"):
        expected = json.loads(
            (project.root / "outbox" / f"{draft_id}.archivio.json").read_text(encoding="utf-8")
        )["text"]
        article = browser.find_element(By.ID, f"p-{draft_id}-archivio")
        pasted, status = _copy(browser, article)
        assert pasted.encode("utf-8") == expected.encode("utf-8")
        assert status == "Copied"


def _open_desk(browser: Any, server: str) -> None:
    """The desk over http://127.0.0.1 (the clipboard API needs it), clipboard allowed."""
    browser.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": server, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    browser.get(f"{server}/outbox/index.html")


def _copy(browser: Any, article: Any) -> tuple[str, str]:
    """Click the entry's «Copia testo»: (what the clipboard holds then, the button's status)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    article.find_element(By.CSS_SELECTOR, "button.copy").click()
    status = article.find_element(By.CSS_SELECTOR, ".status")
    WebDriverWait(browser, 10).until(lambda _: status.text)
    pasted = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('ERROR ' + e));")
    return pasted, status.text


def test_a_correction_copies_its_new_text_and_a_withdrawal_offers_nothing_to_copy(
    project: SiteProject, server: str, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    _open_desk(browser, server)
    [correction] = (project.root / "outbox").glob("avviso-03.archivio.correction.*.json")
    expected = json.loads(correction.read_text(encoding="utf-8"))["text"]
    assert "testo cambiato dopo l'invio" in expected
    article = browser.find_element(By.ID, "p-" + correction.stem.replace(".", "-"))
    assert "Correction: paste this text over" in article.text
    pasted, status = _copy(browser, article)
    assert pasted.encode("utf-8") == expected.encode("utf-8")
    assert status == "Copied"

    withdrawal = browser.find_element(By.ID, "p-avviso-05-archivio-withdrawal")
    assert "delete this update from the channel by hand" in withdrawal.text
    assert "There is nothing to paste." in withdrawal.text
    assert "Avviso superato" in withdrawal.text
    assert not withdrawal.find_elements(By.CSS_SELECTOR, "button, textarea")
