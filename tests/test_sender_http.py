"""The HTTP senders' shared ground: URL policy, outcome classification, Retry-After, masking."""

from __future__ import annotations

import email.utils
import logging
import time

import httpx
import pytest
from fakes import FakeServer, FakeWebhook, Reply, closed_port

from comunicast.senders.base import MaybeDelivered, NotDelivered
from comunicast.senders.http import (
    MASK,
    Scrubber,
    check_url,
    classify,
    error_description,
    is_loopback,
    make_client,
    post,
    retry_after,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://waha.comune.cremona.it",
        "https://api.telegram.org/",
        "http://127.0.0.1:3000",
        "http://127.8.9.10:3000/",
        "http://localhost:3000",
        "http://[::1]:8080",
        "https://hooks.example.it/comunicast?team=urp",
    ],
)
def test_accepted_urls(url: str) -> None:
    assert check_url(url).startswith(url.split("?")[0].rstrip("/"))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://waha.comune.cremona.it", "https://"),
        ("http://127.0.0.1.nip.io:3000", "https://"),
        ("http://localhost.evil.example", "https://"),
        ("http://10.0.0.5:3000", "https://"),
        ("ftp://127.0.0.1/", "https://"),
        ("127.0.0.1:3000", "https://"),
        ("", "https://"),
        ("https://admin:s3cret@waha.example.it", "user name or password"),
        ("https://waha.example.it/#x", "fragment"),
    ],
)
def test_refused_urls(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_url(url)


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.255.0.1") and is_loopback("::1")
    assert is_loopback("[::1]") and is_loopback("LOCALHOST")
    assert not is_loopback("128.0.0.1") and not is_loopback("example.org")
    assert not is_loopback("localhost.example.org") and not is_loopback("::2")


def test_scrubber_masks_plain_encoded_and_bot_tokens() -> None:
    scrub = Scrubber(["s3cret/with space", None, "abc"])  # "abc": too short to mask safely
    text = "a s3cret/with space b s3cret%2Fwith%20space c abc"
    assert scrub(text) == f"a {MASK} b {MASK} c abc"
    # A bot token is masked even when nobody registered it.
    url = "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage"
    assert scrub(url) == f"https://api.telegram.org/bot{MASK}/sendMessage"


def _response(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("POST", "http://127.0.0.1/x"), **kwargs)  # type: ignore[arg-type]


def test_retry_after_forms() -> None:
    assert retry_after(_response(429, headers={"Retry-After": "7"})) == 7.0
    assert retry_after(_response(429, headers={"Retry-After": "1.5"})) == 1.5
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 27 <= (retry_after(_response(503, headers={"Retry-After": when})) or 0) <= 31
    telegram = {"ok": False, "error_code": 429, "parameters": {"retry_after": 12}}
    assert retry_after(_response(429, json=telegram)) == 12.0
    assert retry_after(_response(429)) is None
    assert retry_after(_response(429, headers={"Retry-After": "soon"})) is None


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (200, None, None),
        (201, None, None),
        (204, None, None),
        (301, NotDelivered, False),
        (400, NotDelivered, False),
        (401, NotDelivered, False),
        (403, NotDelivered, False),
        (404, NotDelivered, False),
        (408, NotDelivered, True),
        (413, NotDelivered, False),
        (422, NotDelivered, False),
        (429, NotDelivered, True),
        (500, MaybeDelivered, None),
        (501, MaybeDelivered, None),
        (502, NotDelivered, True),
        (503, NotDelivered, True),
        (504, NotDelivered, True),
    ],
)
def test_classification_by_status(status: int, kind: type | None, retryable: bool | None) -> None:
    response = _response(status, json={"message": "platform says no"})
    if kind is None:
        classify(response, Scrubber(), "waha wa")
        return
    with pytest.raises(kind) as info:
        classify(response, Scrubber(), "waha wa")
    assert f"HTTP {status}" in str(info.value)
    assert str(info.value).startswith("waha wa: ")
    if retryable is not None:
        assert info.value.retryable is retryable  # type: ignore[attr-defined]


def test_error_description_prefers_the_platforms_words_and_is_short() -> None:
    assert error_description(
        _response(400, json={"description": "Bad Request: chat not found"})
    ) == ("Bad Request: chat not found")
    assert error_description(_response(422, json={"message": ["a", "b"]})) == "a; b"
    long = error_description(_response(500, text="x " * 1000))
    assert len(long) <= 300 and long.endswith("…")


def test_transport_failures_are_classified_on_a_real_socket() -> None:
    scrub = Scrubber()
    with make_client(10) as client:
        with pytest.raises(NotDelivered) as refused:
            post(client, f"http://127.0.0.1:{closed_port()}/hook", scrub, "webhook w", json={})
        assert refused.value.retryable and "cannot connect" in str(refused.value)
        assert refused.value.__context__ is None and refused.value.__cause__ is None
        with FakeServer() as fake:
            fake.script(Reply.hang_up(), Reply.reset(), Reply.slow(3))
            for expected in ("RemoteProtocolError", "ReadError"):
                with pytest.raises(MaybeDelivered) as maybe:
                    post(client, fake.url, scrub, "webhook w", json={})
                assert expected in str(maybe.value)
                assert maybe.value.__context__ is None
            with make_client(0.5) as impatient, pytest.raises(MaybeDelivered) as maybe:
                post(impatient, fake.url, scrub, "webhook w", json={})
            assert "no answer within 0.5 s" in str(maybe.value) and maybe.value.__context__ is None
            assert fake.delivered == 3  # each of them reached the platform


def test_httpx_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    token = "555555555:AAmaskMEmaskMEmaskMEmaskMEmask00"
    Scrubber([token])
    with FakeWebhook() as fake, make_client(2) as client, caplog.at_level(logging.DEBUG):
        client.post(f"{fake.url}/bot{token}/sendMessage", json={})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: POST" in logged  # httpx did log the URL…
    assert token not in logged and f"bot{MASK}/sendMessage" in logged  # …without the token
