"""The link checker's network behaviour (aiohttp beneath it): real loopback servers (plain, TLS,
IPv6, misbehaving byte by byte, proxies), no mocks of the HTTP client."""

from __future__ import annotations

import gc
import json
import logging
import socket
import ssl
import subprocess
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from httpservers import OK_HEAD, LoopbackServer, RawServer, read_request, serving

from comunicast.linkcheck import check_links


@pytest.fixture(autouse=True)
def no_leaks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No socket left unclosed (ResourceWarning), no task destroyed while pending."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with caplog.at_level(logging.WARNING, logger="asyncio"):
            yield
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


# --- https -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_tls(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


def _client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()  # hostname and certificate checks on
    ca.configure_trust(context)
    return context


def test_https_with_a_trusted_certificate(ca: trustme.CA) -> None:
    with serving("127.0.0.1", tls=_server_tls(ca, "localhost", "127.0.0.1")) as (server,):
        by_name = f"https://localhost:{server.port}/ok"  # server_hostname is the name
        urls = [server.url("/ok"), server.url("/missing"), server.url("/same"), by_name]
        results = check_links(urls, ssl_context=_client_tls(ca))
    ok, missing, same, named = (results[u] for u in urls)
    assert (ok.status, ok.broken) == (200, False)
    assert (missing.status, missing.broken) == (404, True)
    assert same.status == 200 and same.final_url == server.url("/ok")
    assert (named.status, named.broken) == (200, False), named


@pytest.mark.parametrize("case", ["wrong host", "unknown CA", "default context"])
def test_https_certificate_not_valid(ca: trustme.CA, case: str) -> None:
    if case == "wrong host":
        server_tls, client_tls = _server_tls(ca, "www.comune.esempio.it"), _client_tls(ca)
    elif case == "unknown CA":
        server_tls, client_tls = _server_tls(trustme.CA(), "127.0.0.1"), _client_tls(ca)
    else:  # httpx's context, certifi's CAs: verification is on by default
        server_tls, client_tls = _server_tls(ca, "127.0.0.1"), None
    with serving("127.0.0.1", tls=server_tls) as (server,):
        url = server.url("/ok")
        result = check_links([url], ssl_context=client_tls, timeout=5)[url]
        assert server.record.requests == []  # nothing was asked over an untrusted channel
    assert result.broken and result.status is None
    assert (result.error or "").startswith("TLS certificate not valid"), result.error


def test_tls_handshake_that_never_ends_is_cut_by_the_deadline() -> None:
    closed = threading.Event()

    def silent(sock: socket.socket, n: int) -> None:
        sock.settimeout(5)
        while sock.recv(65536):  # the ClientHello, never answered
            pass
        closed.set()  # the client closed the socket when its deadline passed

    with RawServer(silent) as server:
        url = server.url("/ok").replace("http:", "https:")
        result = check_links([url], timeout=0.3)[url]
        assert closed.wait(3)
    assert result.broken and "timeout" in (result.error or "")


# --- keep-alive ------------------------------------------------------------------------------

def test_keep_alive_connections_are_reused_within_the_per_host_limit() -> None:
    with serving("127.0.0.1", delay=0.02) as (server,):
        urls = [server.url(f"/delay/{i}") for i in range(40)]
        results = check_links(urls, per_host=4)
        assert all(r.status == 200 for r in results.values())
        assert 1 <= server.record.connections <= 4
        # A HEAD refused (GET asked next, its body never read) does not leak connections.
        urls = [server.url("/head-405")] + [server.url(f"/delay/again/{i}") for i in range(8)]
        results = check_links(urls, per_host=2)
        assert all(r.status == 200 for r in results.values())
        assert server.record.connections <= 4 + 1 + 2


def _keep_alive_then(ending: str, methods: list[bytes]) -> RawServer:
    """Connection 0 answers once, then ends as `ending` says; later ones answer every request."""

    def script(sock: socket.socket, n: int) -> None:
        while request := read_request(sock):
            methods.append(request.split(b" ", 1)[0])
            assert b"\r\nhost: 127.0.0.1:" in request.lower()  # the non-default port is sent
            if n == 0 and ending == "Connection: close":
                sock.sendall(OK_HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
                return
            sock.sendall(OK_HEAD)
            if n == 0 and ending == "close when idle":
                return
            if n == 0 and ending == "close at the next request":
                # The server's keep-alive timer fires as the next request comes: no answer.
                methods.append(read_request(sock).split(b" ", 1)[0])
                return

    return RawServer(script)


@pytest.mark.parametrize("ending", ["close when idle", "close at the next request",
                                    "Connection: close"])
def test_a_keep_alive_connection_closed_by_the_server_is_replaced(ending: str) -> None:
    methods: list[bytes] = []
    with _keep_alive_then(ending, methods) as server:
        urls = [server.url(f"/pagina/{i}") for i in range(3)]
        results = check_links(urls, per_host=1, concurrency=1)
        assert server.errors == []
        assert server.connections == 2
    assert [r.status for r in results.values()] == [200, 200, 200], results
    # The HEAD was asked again on a fresh connection, not given up for a GET.
    assert set(methods) == {b"HEAD"}
    assert len(methods) == (4 if ending == "close at the next request" else 3)


# --- misbehaving servers ----------------------------------------------------------------------

ANSWERS = {
    "closed without answering": b"",
    "closed mid-headers": b"HTTP/1.1 200 OK\r\nContent-Le",
    "garbage": b"SALVE A TUTTI\r\n\r\n",
    "bad header": b"HTTP/1.1 200 OK\r\nContent Length: 3\r\n\r\n",
    # HEAD refused; the GET's answer, a redirect, ends before its body does
    "closed mid-body": b"HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 10\r\n\r\nab",
}


def _answering(answer: bytes) -> RawServer:
    def script(sock: socket.socket, n: int) -> None:
        request = read_request(sock)
        if request.startswith(b"HEAD") and answer is ANSWERS["closed mid-body"]:
            sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
        elif request:
            sock.sendall(answer)

    return RawServer(script)


@pytest.mark.parametrize("case", list(ANSWERS))
def test_broken_answers_are_broken_links_with_a_reason(case: str) -> None:
    with _answering(ANSWERS[case]) as server:
        url = server.url("/ok")
        result = check_links([url], timeout=3)[url]
        assert server.connections == 2  # HEAD, then GET: both failed the same way
    assert result.broken and result.status is None
    assert result.error and "Traceback" not in result.error and "timeout" not in result.error
    assert len(result.error) < 200, result.error


def _check_online(tmp_path: Path, url: str, output: str) -> subprocess.CompletedProcess[str]:
    """The installed `comunicast check --online` on one draft linking `url` (on loopback)."""
    from conftest import MINIMAL_CONFIG, run_cli

    root = tmp_path / "p"
    (root / "messages").mkdir(parents=True)
    (root / "comunicast.yaml").write_text(
        MINIMAL_CONFIG + "rules:\n  links.scheme: off\n  links.deceptive: off\n"
        "  links.domain: off\n", encoding="utf-8")
    (root / "messages" / "a.md").write_text(
        f"---\ntitle: T\nkind: avviso\n---\nVedi {url}\n", encoding="utf-8")
    return run_cli(["check", "--online", "--format", output], root)


def test_cli_reports_a_garbage_answer_without_a_traceback(tmp_path: Path) -> None:
    with _answering(ANSWERS["garbage"]) as server:
        result = _check_online(tmp_path, server.url("/ok"), "text")
    assert result.returncode == 1
    assert "links.broken" in result.stdout
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "Unclosed" not in result.stderr and "destroyed" not in result.stderr


def test_the_body_of_a_get_is_never_downloaded() -> None:
    closed = threading.Event()
    sent = [0]

    def script(sock: socket.socket, n: int) -> None:
        request = read_request(sock)
        if request.startswith(b"HEAD"):
            sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            request = read_request(sock)
            if not request:
                return
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        sock.settimeout(5)
        try:
            while sent[0] < 100_000_000:
                sent[0] += sock.send(b"x" * 65536)
        except OSError:
            closed.set()  # the client closed the connection instead of reading on

    with RawServer(script) as server:
        url = server.url("/grande")
        result = check_links([url], timeout=5)[url]
        assert closed.wait(5)
    assert result.status == 200 and not result.broken
    assert sent[0] < 20_000_000


def test_the_deadline_closes_the_connection_it_interrupts() -> None:
    closed = threading.Event()

    def script(sock: socket.socket, n: int) -> None:
        if n == 0:  # never answers: the client's deadline passes
            assert read_request(sock).startswith(b"HEAD /lento ")
            sock.settimeout(5)
            if sock.recv(1) == b"":
                closed.set()
            return
        # The next URL comes on a new connection once the first is given up, and by then the
        # first is closed: not forgotten until the end of the run, nor kept for reuse.
        assert read_request(sock).startswith(b"HEAD /pronto ")
        assert closed.wait(2)
        sock.sendall(OK_HEAD)

    with RawServer(script) as server:
        slow, ready = server.url("/lento"), server.url("/pronto")
        results = check_links([slow, ready], timeout=0.5, per_host=1)
        assert server.errors == []
        assert server.connections == 2
    assert results[slow].broken and "timeout" in (results[slow].error or "")
    assert results[ready].status == 200


# --- addresses --------------------------------------------------------------------------------

def test_ipv6_loopback() -> None:
    try:
        server = LoopbackServer("::1").start()
    except OSError:
        pytest.skip("this machine cannot bind ::1")
    try:
        urls = [server.url("/ok"), server.url("/same"), server.url("/missing")]
        assert urls[0].startswith("http://[::1]:")
        results = check_links(urls)
    finally:
        server.stop()
    assert [results[u].status for u in urls] == [200, 200, 404]
    assert results[urls[1]].final_url == urls[0]


def test_unknown_hosts_are_dns_failures_even_when_not_ascii() -> None:
    urls = ["http://comune.invalid/albo", "http://città-di-prova.invalid/albo"]
    results = check_links(urls, timeout=5)
    for url in urls:
        assert results[url].broken and results[url].error == "host not found (DNS)", results[url]



@pytest.mark.parametrize("port", ["70000", "-1", "99999999999999999999"])
def test_a_redirect_to_a_port_out_of_range_is_a_broken_link(port: str) -> None:
    """httpx accepts any number as a port; asyncio's connect then fails with OverflowError or
    IndexError (not OSError), which ended the whole run. A server's redirect is enough."""
    with serving("127.0.0.1") as (server,):
        server.away_to = f"http://127.0.0.1:{port}/ok"
        url = server.url("/away")
        result = check_links([url], timeout=3)[url]
    assert result.broken and result.status is None
    assert result.error and "port" in result.error and "Traceback" not in result.error


def test_cli_reports_a_redirect_to_a_port_out_of_range_as_a_broken_link(tmp_path: Path) -> None:
    with serving("127.0.0.1") as (server,):
        server.away_to = "http://127.0.0.1:70000/ok"
        result = _check_online(tmp_path, server.url("/away"), "json")
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr
    [finding] = [f for f in json.loads(result.stdout)["files"][0]["findings"]
                 if f["rule"] == "links.broken"]
    assert "70000" in finding["message"]


# --- proxies ----------------------------------------------------------------------------------

@pytest.fixture
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_a_proxy_named_by_the_environment_is_used(no_proxy_environment: pytest.MonkeyPatch,
                                                  ) -> None:
    with serving("127.0.0.1") as (proxy,), serving("127.0.0.2") as (direct,):
        no_proxy_environment.setenv("HTTP_PROXY", proxy.url(""))
        no_proxy_environment.setenv("NO_PROXY", "127.0.0.2")
        through, around = "http://www.comune.esempio.invalid/ok", direct.url("/ok")
        results = check_links([through, around])
        asked_proxy = [(m, p) for m, p, _ua in proxy.record.requests]
        asked_direct = [(m, p) for m, p, _ua in direct.record.requests]
    assert results[through].status == 200 and results[around].status == 200
    assert asked_proxy == [("HEAD", through)]  # absolute form: a proxy request
    assert asked_direct == [("HEAD", "/ok")]  # NO_PROXY honoured


def test_behind_a_proxy_an_odd_redirect_is_still_only_a_broken_link(
        no_proxy_environment: pytest.MonkeyPatch) -> None:
    """httpx's own transport (used behind a proxy) fails on a port out of range with an error
    that is neither an httpx nor an OS error: that link is broken, the others are checked."""
    with serving("127.0.0.2") as (proxy,):
        no_proxy_environment.setenv("HTTP_PROXY", proxy.url(""))
        no_proxy_environment.setenv("NO_PROXY", "127.0.0.1")  # the redirect goes direct
        proxy.away_to = "http://127.0.0.1:70000/ok"
        odd, fine = "http://www.comune.esempio.invalid/away", "http://www.comune.esempio.invalid/ok"
        results = check_links([odd, fine], timeout=3)
    assert results[odd].broken and results[odd].status is None and results[odd].error
    assert results[fine].status == 200 and not results[fine].broken


def test_https_through_a_proxy_is_a_connect_tunnel(no_proxy_environment: pytest.MonkeyPatch,
                                                   ca: trustme.CA) -> None:
    """HTTPS_PROXY: the proxy sees only `CONNECT host:port`; the certificate is the origin's,
    checked against the name in the URL, as without a proxy."""
    from httpservers import TunnelProxy

    tls = _server_tls(ca, "localhost")
    with TunnelProxy() as proxy, serving("127.0.0.1", tls=tls) as (server,):
        no_proxy_environment.setenv("HTTPS_PROXY", proxy.url())
        good = f"https://localhost:{server.port}/ok"
        wrong_name = f"https://127.0.0.1:{server.port}/ok"  # the certificate names localhost
        results = check_links([good, wrong_name], ssl_context=_client_tls(ca), per_host=1,
                              timeout=5)
        asked = [(m, p) for m, p, _ua in server.record.requests]
    assert results[good].status == 200 and not results[good].broken, results[good]
    assert (results[wrong_name].error or "").startswith("TLS certificate not valid")
    assert sorted(proxy.targets) == sorted([f"localhost:{server.port}",
                                            f"127.0.0.1:{server.port}"])
    assert asked == [("HEAD", "/ok")]  # origin form inside the tunnel


def test_no_proxy_sends_https_around_the_proxy(no_proxy_environment: pytest.MonkeyPatch,
                                               ca: trustme.CA) -> None:
    from httpservers import TunnelProxy

    with TunnelProxy() as proxy, \
            serving("127.0.0.1", tls=_server_tls(ca, "localhost")) as (server,):
        no_proxy_environment.setenv("HTTPS_PROXY", proxy.url())
        no_proxy_environment.setenv("NO_PROXY", "localhost")
        url = f"https://localhost:{server.port}/ok"
        result = check_links([url], ssl_context=_client_tls(ca))[url]
    assert result.status == 200, result
    assert proxy.targets == []


def test_aiohttp_is_imported_only_when_links_are_asked(tmp_path: Path) -> None:
    """`--help`, `--version` and an offline `check` stay light (PLAN: heavy imports in the
    functions that use them)."""
    import os
    import sys

    from conftest import MINIMAL_CONFIG

    root = tmp_path / "p"
    (root / "messages").mkdir(parents=True)
    (root / "comunicast.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    (root / "messages" / "a.md").write_text(
        "---\ntitle: T\nkind: avviso\n---\nVedi https://www.comune.cremona.it/\n",
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("COMUNICAST_") and k != "COMUNICAST_LANG")}
    for args in (["--help"], ["--version"], ["check", "--format", "json"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "comunicast", *args],
                              cwd=root, env=env, capture_output=True, text=True, check=False,
                              timeout=60)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "comunicast.cli.entry" in imported
        # `--version` alone is answered before typer is imported; the others run the app.
        assert ("comunicast.cli.app" in imported) is (args != ["--version"]), args
        assert ("typer" in imported) is (args != ["--version"]), args
        assert not {"aiohttp", "asyncio"} & imported, args


# --- the network child (check --online's first run) -------------------------------------------

def test_a_forked_network_child_asks_and_relays_progress() -> None:
    from comunicast.linkcheck_child import NetworkChild

    seen: list[tuple[int, int]] = []
    with serving("127.0.0.1") as (server,):
        urls = [server.url("/ok"), server.url("/missing"), server.url("/same")]
        child = NetworkChild()
        results = check_links(urls, child=child, progress=lambda d, t: seen.append((d, t)))
        asked = sorted(p for _m, p, _ua in server.record.requests)
    assert child.pid is None  # reaped
    assert [results[u].status for u in urls] == [200, 404, 200]
    assert results[urls[2]].final_url == server.url("/ok")
    assert asked == ["/missing", "/missing", "/ok", "/ok", "/same"]  # 404: HEAD then GET
    assert seen[-1] == (3, 3) and 1 <= len(seen) <= 3  # at most 20 a second


def test_a_dead_network_child_only_costs_its_time() -> None:
    import os
    import signal

    from comunicast.linkcheck_child import NetworkChild

    with serving("127.0.0.1") as (server,):
        child = NetworkChild()
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        url = server.url("/ok")
        result = check_links([url], child=child)[url]
    assert result.status == 200 and not result.broken  # asked by this process instead


def test_an_unused_network_child_ends_when_closed() -> None:
    from comunicast.linkcheck_child import NetworkChild

    child = NetworkChild()
    assert check_links([], child=child) == {}
    child.close()
    assert child.pid is None


# --- the early network child (forked by the entry point, before typer is imported) ------------

def _refused_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on (bound, then closed)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/pagina"


def test_the_entry_point_forks_early_only_for_a_first_online_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from comunicast.cli.entry import _wants_early_network

    for name in ("COMUNICAST_CONFIG", "COMUNICAST_STATE_DIR", "COMUNICAST_STATE_URL",
                 "COMUNICAST_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "p"
    root.mkdir()
    (root / "comunicast.yaml").write_text("organization:\n  name: X\n", encoding="utf-8")
    monkeypatch.chdir(root)
    assert _wants_early_network(["check", "--online"])
    assert _wants_early_network(["--debug", "check", "messages/", "--online"])
    assert not _wants_early_network(["check"])  # offline: no network at all
    assert not _wants_early_network(["check", "--online", "--help"])
    assert not _wants_early_network(["publish", "--online"])
    (root / ".comunicast").mkdir()
    (root / ".comunicast" / "ledger.sqlite3").write_bytes(b"")
    assert not _wants_early_network(["check", "--online"])  # the cache may answer
    monkeypatch.setenv("COMUNICAST_STATE_DIR", str(tmp_path / "elsewhere"))
    assert _wants_early_network(["check", "--online"])
    monkeypatch.setenv("COMUNICAST_STATE_URL", "postgresql://db/comunicast")
    assert not _wants_early_network(["check", "--online"])  # decided once the config is read
    monkeypatch.delenv("COMUNICAST_STATE_URL")
    (root / "comunicast.yaml").write_text(
        "organization:\n  name: X\nstate:\n  project: x\n", encoding="utf-8")
    assert not _wants_early_network(["check", "--online"])
    monkeypatch.chdir(tmp_path)  # no comunicast.yaml here or above: the command will say so
    assert not _wants_early_network(["check", "--online"])
    assert _wants_early_network(["--config", str(root.parent / "p"), "check", "--online"]) is False


@pytest.mark.parametrize(("language", "reason"), [("en", "connection refused"),
                                                  ("it", "connessione rifiutata")])
def test_the_early_network_child_speaks_the_projects_language(
        tmp_path: Path, language: str, reason: str) -> None:
    """Forked before the configuration chose the language, the child is told it with the URLs."""
    from conftest import MINIMAL_CONFIG, run_cli

    root = tmp_path / "p"
    (root / "messages").mkdir(parents=True)
    (root / "comunicast.yaml").write_text(
        f"language: {language}\n" + MINIMAL_CONFIG
        + "rules:\n  links.scheme: off\n  links.deceptive: off\n  links.domain: off\n",
        encoding="utf-8")
    (root / "messages" / "a.md").write_text(
        f"---\ntitle: T\nkind: avviso\n---\nVedi {_refused_url()}\n", encoding="utf-8")
    result = run_cli(["check", "--online", "--format", "json"], root,
                     env={"COMUNICAST_LANG": "", "LANG": "C.UTF-8", "LC_ALL": ""})
    assert result.returncode == 1, result.stderr
    messages = [f["message"] for f in json.loads(result.stdout)["files"][0]["findings"]
                if f["rule"] == "links.broken"]
    assert len(messages) == 1 and reason in messages[0], messages
