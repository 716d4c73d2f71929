"""`waha` against a loopback WAHA whose requests are validated with WAHA's own OpenAPI schemas."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fakes import FakeWaha, Reply, closed_port, schema_errors
from sender_support import CANARY_KEY, jpeg, message, png, project_config

from comunicast.errors import ConfigError
from comunicast.senders.base import MaybeDelivered, NotDelivered, SenderConfigError
from comunicast.senders.registry import create_sender, installed_adapters
from comunicast.senders.waha import WahaSender

CHANNEL = "120363000000000000@newsletter"


@pytest.fixture
def waha() -> Iterator[FakeWaha]:
    with FakeWaha(api_key=CANARY_KEY, chat_id=CHANNEL) as fake:
        yield fake


def _sender(tmp_path: Path, base_url: str, **extra: object) -> WahaSender:
    options = {
        "adapter": "waha",
        "base_url": base_url,
        "chat_id": CHANNEL,
        "api_key": "${WAHA_API_KEY}",
        **extra,
    }
    config = project_config(tmp_path / "p", {"wa": options})
    sender = create_sender(config, "wa")
    assert isinstance(sender, WahaSender)
    return sender


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAHA_API_KEY", CANARY_KEY)


def test_registered_with_its_limits() -> None:
    entry = installed_adapters()["waha"]
    assert entry.adapter is WahaSender and entry.error is None
    limits = WahaSender.limits
    assert (limits.target, limits.max_text, limits.max_caption) == ("whatsapp", 4096, 1024)
    assert limits.max_image_bytes == 5 * 1024 * 1024 and limits.min_interval == 3.0
    assert limits.images and not limits.idempotency


def test_send_text_is_a_valid_sendText_request(tmp_path: Path, waha: FakeWaha) -> None:
    sender = _sender(tmp_path, waha.url)
    receipt = sender.send(message("*Ponte chiuso* dal 2 al 5 dicembre", sender="wa"))
    sender.close()
    assert waha.problems == []
    [request] = waha.requests
    assert (request.method, request.path) == ("POST", "/api/sendText")
    assert request.header("x-api-key") == CANARY_KEY
    assert request.json == {
        "session": "default",
        "chatId": CHANNEL,
        "text": "*Ponte chiuso* dal 2 al 5 dicembre",
    }
    # Checked here too, independently of the fake: the body validates against WAHA's schema.
    assert schema_errors("/api/sendText", request.json) == []
    assert receipt.remote_id == waha.deliveries[0].remote_id
    assert receipt.remote_id.startswith(f"true_{CHANNEL}_")


@pytest.mark.parametrize(("make", "mimetype"), [(jpeg, "image/jpeg"), (png, "image/png")])
def test_send_image_with_caption_as_base64(
    tmp_path: Path, waha: FakeWaha, make: object, mimetype: str
) -> None:
    image = make(tmp_path / "mappa.img")  # type: ignore[operator]
    sender = _sender(tmp_path, waha.url, session="comune")
    waha.session = "comune"
    sender.send(message("Percorsi alternativi", sender="wa", image=image))
    assert waha.problems == []
    [request] = waha.requests
    assert request.path == "/api/sendImage"
    body = request.json
    assert schema_errors("/api/sendImage", body) == []
    assert body["session"] == "comune" and body["caption"] == "Percorsi alternativi"
    assert body["file"]["mimetype"] == mimetype and body["file"]["filename"] == "mappa.img"
    assert base64.b64decode(body["file"]["data"]) == image.read_bytes()
    assert "text" not in body


def test_webjs_style_id_is_serialized(tmp_path: Path) -> None:
    with FakeWaha(api_key=CANARY_KEY, id_style="serialized") as fake:
        receipt = _sender(tmp_path, fake.url).send(message(sender="wa"))
    assert receipt.remote_id == fake.deliveries[0].remote_id


def test_link_preview_only_when_configured(tmp_path: Path, waha: FakeWaha) -> None:
    _sender(tmp_path / "a", waha.url).send(message(sender="wa"))
    _sender(tmp_path / "b", waha.url, link_preview=False).send(message("due", sender="wa"))
    assert "linkPreview" not in waha.requests[0].json
    assert waha.requests[1].json["linkPreview"] is False
    assert waha.problems == []


def test_the_fake_rejects_what_waha_would(waha: FakeWaha) -> None:
    """The validation the sender passes is real: a request missing chatId fails the schema."""
    bad = httpx.post(
        f"{waha.url}/api/sendText",
        headers={"X-Api-Key": CANARY_KEY},
        json={"session": "default", "text": "x"},
    )
    assert bad.status_code == 422
    assert any("'chatId' is a required property" in p for p in waha.problems)
    assert httpx.post(f"{waha.url}/api/sendText", json={}).status_code == 401
    assert waha.delivered == 0


@pytest.mark.parametrize(
    ("reply", "kind", "retryable", "delivered"),
    [
        (Reply.rate_limited(2), NotDelivered, True, 0),
        (Reply.error(503), NotDelivered, True, 0),
        (Reply.error(502), NotDelivered, True, 0),
        (Reply.error(400, "chatId is not a channel"), NotDelivered, False, 0),
        (Reply.error(500, deliver=True), MaybeDelivered, None, 1),
        (Reply.slow(3), MaybeDelivered, None, 1),
        (Reply.hang_up(), MaybeDelivered, None, 1),
        (Reply.reset(), MaybeDelivered, None, 1),
        (Reply.raw(201, b"<html>ok</html>", deliver=True), MaybeDelivered, None, 1),
    ],
    ids=["429", "503", "502", "400", "500", "read-timeout", "hang-up", "reset", "not-json"],
)
def test_faults_are_typed(
    tmp_path: Path, waha: FakeWaha, reply: Reply, kind: type, retryable: bool | None, delivered: int
) -> None:
    waha.script(reply)
    # Short read timeout only where it is the fault: a loaded machine must not turn others into it.
    sender = _sender(tmp_path, waha.url, timeout=0.5 if reply.delay else 10)
    with pytest.raises(kind) as info:
        sender.send(message(sender="wa"))
    if retryable is not None:
        assert info.value.retryable is retryable
    assert str(info.value).startswith("waha wa: ")
    assert waha.delivered == delivered
    if reply.status == 429:
        assert info.value.retry_after == 2.0
    if reply.status == 400:
        assert "chatId is not a channel" in str(info.value)


def test_wrong_api_key_is_not_delivered_and_not_retryable(
    tmp_path: Path, waha: FakeWaha, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAHA_API_KEY", "wrong-key-000")
    with pytest.raises(NotDelivered) as info:
        _sender(tmp_path, waha.url).send(message(sender="wa"))
    assert not info.value.retryable and "HTTP 401" in str(info.value)
    assert "wrong-key-000" not in str(info.value)


def test_connection_refused_is_retryable(tmp_path: Path) -> None:
    sender = _sender(tmp_path, f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(NotDelivered) as info:
        sender.send(message(sender="wa"))
    assert info.value.retryable


def test_a_bad_image_is_refused_before_any_request(tmp_path: Path, waha: FakeWaha) -> None:
    sender = _sender(tmp_path, waha.url)
    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a" + b"\0" * 100)
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024))
    for image, why in (
        (gif, "neither JPEG nor PNG"),
        (big, "over the 5 MB limit"),
        (tmp_path / "missing.jpg", "cannot read image"),
    ):
        with pytest.raises(NotDelivered, match=why) as info:
            sender.send(message(sender="wa", image=image))
        assert not info.value.retryable
    assert waha.requests == []


def test_options_are_validated_with_their_place(tmp_path: Path) -> None:
    with pytest.raises(SenderConfigError) as info:
        _sender(tmp_path / "a", "http://waha.comune.cremona.it")
    text = str(info.value)
    assert "comunicast.yaml:" in text and "senders.wa.base_url" in text and "https://" in text
    assert info.value.line is not None
    with pytest.raises(SenderConfigError, match="unknown key 'senders.wa.apikey'"):
        _sender(tmp_path / "b", "http://127.0.0.1:1", apikey="x")
    with pytest.raises(SenderConfigError, match="senders.wa.chat_id.*not the invite link"):
        _sender(
            tmp_path / "c",
            "http://127.0.0.1:1",
            chat_id="https://whatsapp.com/channel/0029VaTestTestTestTest00",
        )


def test_a_missing_secret_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAHA_API_KEY")
    with pytest.raises(ConfigError) as info:
        _sender(tmp_path, "http://127.0.0.1:1")
    assert "WAHA_API_KEY" in str(info.value) and info.value.exit_code == 3


def test_secret_never_in_repr_or_options_dump(tmp_path: Path) -> None:
    sender = _sender(tmp_path, "http://127.0.0.1:1")
    dumped = json.dumps(sender.options.model_dump(mode="json"))
    for text in (repr(sender), repr(sender.options), str(sender.options), dumped):
        assert CANARY_KEY not in text
