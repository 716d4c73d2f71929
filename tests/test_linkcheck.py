"""`check --online`: real HTTP servers on 127.0.0.1, a real ledger cache, no mocks of httpx."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from httpservers import refused_url, serving

from comunicast.linkcheck import all_cached, check_links, origin


def test_statuses_redirects_timeouts_and_refusals(tmp_path: Path) -> None:
    with serving("127.0.0.1", "127.0.0.2", slow_seconds=5.0) as (home, other):
        home.away_to = other.url("/ok")
        refused = refused_url("/nessuno")
        urls = [home.url(p) for p in ("/ok", "/missing", "/error", "/away", "/same", "/slow")]
        start = time.monotonic()
        results = check_links([*urls, refused], timeout=0.5)
        elapsed = time.monotonic() - start
        agents = {ua for _m, _p, ua in home.record.requests}

    ok, missing, error, away, same, slow = (results[u] for u in urls)
    assert (ok.status, ok.broken, ok.final_url) == (200, False, None)
    assert (missing.status, missing.broken) == (404, True)
    assert (error.status, error.broken) == (500, True)
    assert away.status == 200 and away.final_url == other.url("/ok") and not away.broken
    assert same.status == 200 and same.final_url == home.url("/ok")
    assert slow.broken and slow.status is None and "timeout" in (slow.error or "")
    assert results[refused].broken and "refused" in (results[refused].error or "")
    # The slow server would hold the run 5 s (10 s with the GET fallback); the 0.5 s timeouts end
    # it in about 1 s, with room for a loaded machine.
    assert elapsed < 4.5
    assert agents and all(a.startswith("comunicast/") for a in agents)


def test_head_refused_falls_back_to_get() -> None:
    with serving("127.0.0.1") as (server,):
        url = server.url("/head-405")
        result = check_links([url])[url]
        methods = [m for m, p, _ua in server.record.requests if p == "/head-405"]
    assert result.status == 200 and not result.broken
    assert methods == ["HEAD", "GET"]


def test_results_cached_in_the_ledger_within_the_ttl(tmp_path: Path) -> None:
    ledger = tmp_path / ".comunicast" / "ledger.sqlite3"
    with serving("127.0.0.1") as (server,):
        urls = [server.url("/ok"), server.url("/missing")]
        first = check_links(urls, ledger_path=ledger)
        count = len(server.record.requests)
        second = check_links(urls, ledger_path=ledger)
        assert len(server.record.requests) == count  # no request at all
        third = check_links(urls, ledger_path=ledger, ttl=0)  # TTL 0: ask again
        assert len(server.record.requests) > count
    assert ledger.is_file()
    assert [r.cached for r in first.values()] == [False, False]
    assert [r.cached for r in second.values()] == [True, True]
    assert second[urls[1]].status == 404 and second[urls[1]].broken
    assert [r.cached for r in third.values()] == [False, False]


def test_all_cached_tells_when_no_request_is_needed(tmp_path: Path) -> None:
    ledger = tmp_path / ".comunicast" / "ledger.sqlite3"
    with serving("127.0.0.1") as (home,):
        ok, missing = home.url("/ok"), home.url("/missing")
        assert not all_cached([ok], ttl=3600, ledger_path=ledger)  # no ledger yet
        assert not ledger.exists()  # and asking created none
        check_links([ok, missing], ledger_path=ledger)
        assert all_cached([ok, missing], ttl=3600, ledger_path=ledger)
        assert all_cached([], ttl=3600, ledger_path=ledger)
        assert not all_cached([ok, home.url("/other")], ttl=3600, ledger_path=ledger)
        assert not all_cached([ok], ttl=0, ledger_path=ledger)


def test_per_host_and_global_concurrency_limits() -> None:
    with serving("127.0.0.1", "127.0.0.2", delay=0.1) as (a, b):
        urls = [a.url(f"/delay/{i}") for i in range(10)]
        check_links(urls, per_host=2, concurrency=10)
        assert a.record.max_in_flight == 2
        a.record.max_in_flight = 0
        # The global limit caps one origin too: 4 allowed per host, 3 in all.
        urls = [a.url(f"/delay/x{i}") for i in range(8)]
        check_links(urls, per_host=4, concurrency=3)
        assert a.record.max_in_flight == 3
        # Two origins sharing 3 global slots: neither can exceed them.
        a.record.max_in_flight = b.record.max_in_flight = 0
        urls = [s.url(f"/delay/y{i}") for s in (a, b) for i in range(6)]
        check_links(urls, per_host=4, concurrency=3)
        assert 1 <= a.record.max_in_flight <= 3 and 1 <= b.record.max_in_flight <= 3


def test_origin_is_host_and_port() -> None:
    assert origin("https://www.comune.cremona.it/a") == "www.comune.cremona.it:443"
    assert origin("http://127.0.0.1:8080/a") == "127.0.0.1:8080"


DRAFT = """\
---
title: Link da controllare
kind: avviso
---
Funziona: {ok}
Manca: {missing}
Altrove: {away}
"""


def _project(root: Path) -> None:
    from conftest import MINIMAL_CONFIG

    (root / "messages").mkdir(parents=True)
    (root / "comunicast.yaml").write_text(
        MINIMAL_CONFIG + "rules:\n  links.scheme: off\n  links.deceptive: off\n"
        "  links.domain: off\n", encoding="utf-8")


def test_cli_online_findings_placed_at_links_and_cached(tmp_path: Path) -> None:
    from conftest import run_cli

    root = tmp_path / "p"
    _project(root)
    with serving("127.0.0.1", "127.0.0.2") as (home, other):
        home.away_to = other.url("/ok")
        (root / "messages" / "a.md").write_text(DRAFT.format(
            ok=home.url("/ok"), missing=home.url("/missing"), away=home.url("/away")),
            encoding="utf-8")
        offline = run_cli(["check", "--format", "json"], root)
        assert offline.returncode == 0, offline.stderr
        assert home.record.requests == []  # without --online nothing is asked
        result = run_cli(["check", "--online", "--format", "json"], root)
        asked = len(home.record.requests)
        again = run_cli(["check", "--online", "--format", "json"], root)
        assert len(home.record.requests) == asked  # second run: all from the cache
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    found = [(f["rule"], f["severity"], f["line"], f["column"], f["suggestion"])
             for f in report["files"][0]["findings"]]
    assert found == [
        ("links.broken", "error", 6, 8, None),
        ("links.redirect", "warning", 7, 10, other.url("/ok")),
    ]
    assert json.loads(again.stdout) == report
    assert (root / ".comunicast" / "ledger.sqlite3").is_file()


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_cli_online_other_formats(tmp_path: Path, fmt: str) -> None:
    from conftest import run_cli

    root = tmp_path / "p"
    _project(root)
    with serving("127.0.0.1") as (home,):
        (root / "messages" / "a.md").write_text(DRAFT.format(
            ok=home.url("/ok"), missing=home.url("/missing"), away=home.url("/ok")),
            encoding="utf-8")
        result = run_cli(["check", "--online", "--format", fmt], root)
    assert result.returncode == 1
    assert "HTTP 404" in result.stdout


def test_cli_online_reference_links_and_code_spans(tmp_path: Path) -> None:
    """URLs only the Markdown parser finds are checked too; URLs in code are not links."""
    from conftest import run_cli

    root = tmp_path / "p"
    _project(root)
    with serving("127.0.0.1") as (home,):
        (root / "messages" / "a.md").write_text(
            "---\ntitle: Riferimenti\nkind: avviso\n---\n"
            "Vedi [il modulo][m] e `" + home.url("/error") + "`.\n\n"
            "[m]: " + home.url("/missing") + "\n", encoding="utf-8")
        result = run_cli(["check", "--online", "--format", "json"], root)
    assert result.returncode == 1, result.stderr
    found = [(f["rule"], f["line"], f["column"])
             for f in json.loads(result.stdout)["files"][0]["findings"]]
    assert found == [("links.broken", 5, 6)]


BAD_ADDRESSES = ["https://xn--zz.com/", "https://ééé..it/", "https://[::1/x"]


def test_unreadable_addresses_are_broken_links_not_crashes() -> None:
    results = check_links(BAD_ADDRESSES, timeout=2)
    for url in BAD_ADDRESSES:
        assert results[url].broken and results[url].error, results[url]


def test_cli_online_with_unreadable_addresses(tmp_path: Path) -> None:
    from conftest import run_cli

    root = tmp_path / "p"
    _project(root)
    (root / "messages" / "a.md").write_text(
        "---\ntitle: T\nkind: avviso\n---\nVedi " + " e ".join(BAD_ADDRESSES) + "\n",
        encoding="utf-8")
    result = run_cli(["check", "--online", "--format", "json"], root)
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr
    broken = [f for f in json.loads(result.stdout)["files"][0]["findings"]
              if f["rule"] == "links.broken"]
    assert broken and all(f["line"] == 5 for f in broken)
