"""`telegram` against a loopback Bot API; the bot token (in the URL path) never leaks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeTelegram, Reply, closed_port, parse_entities
from sender_support import (
    CANARY_TOKEN,
    assert_no_canary,
    captured_logs,
    exception_texts,
    jpeg,
    message,
    project_config,
)

from comunicast.senders.base import MaybeDelivered, NotDelivered, SenderConfigError, SenderError
from comunicast.senders.registry import create_sender, installed_adapters
from comunicast.senders.telegram import TelegramSender

HTML = '<b>Ponte sul Po chiuso</b>\n\nDal 2 al 5 dicembre &amp; oltre: <a href="https://www.comune.cremona.it/viabilita">percorsi</a>'


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=CANARY_TOKEN, chat_id="@comunedicremona") as fake:
        yield fake


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", CANARY_TOKEN)


def _sender(tmp_path: Path, base_url: str, **extra: object) -> TelegramSender:
    options = {
        "adapter": "telegram",
        "base_url": base_url,
        "chat_id": "@comunedicremona",
        "token": "${TELEGRAM_BOT_TOKEN}",
        **extra,
    }
    sender = create_sender(project_config(tmp_path / "p", {"tg": options}), "tg")
    assert isinstance(sender, TelegramSender)
    return sender


def test_registered_with_its_limits() -> None:
    assert installed_adapters()["telegram"].adapter is TelegramSender
    limits = TelegramSender.limits
    assert (limits.target, limits.max_text, limits.max_caption) == ("telegram", 4096, 1024)
    assert limits.max_image_bytes == 10 * 1024 * 1024 and limits.min_interval == 0


def test_send_message_as_html(tmp_path: Path, telegram: FakeTelegram) -> None:
    receipt = _sender(tmp_path, telegram.url).send(message(HTML, target="telegram", sender="tg"))
    assert telegram.problems == []
    [request] = telegram.requests
    assert request.path == f"/bot{CANARY_TOKEN}/sendMessage"
    assert request.json == {"chat_id": "@comunedicremona", "text": HTML, "parse_mode": "HTML"}
    assert receipt.remote_id == "1"
    assert (
        telegram.deliveries[0].key == "Ponte sul Po chiuso\n\nDal 2 al 5 dicembre & oltre: percorsi"
    )


def test_link_preview_can_be_disabled(tmp_path: Path, telegram: FakeTelegram) -> None:
    _sender(tmp_path, telegram.url, disable_web_page_preview=True).send(
        message("x https://www.comune.cremona.it", target="telegram", sender="tg")
    )
    assert telegram.requests[0].json["link_preview_options"] == {"is_disabled": True}


def test_send_photo_multipart_with_caption(tmp_path: Path, telegram: FakeTelegram) -> None:
    image = jpeg(tmp_path / "mappa.jpg")
    receipt = _sender(tmp_path, telegram.url).send(
        message(HTML, target="telegram", sender="tg", image=image)
    )
    assert telegram.problems == []
    [request] = telegram.requests
    assert request.path.endswith("/sendPhoto")
    assert request.header("content-type").startswith("multipart/form-data")
    assert request.form == {"chat_id": "@comunedicremona", "caption": HTML, "parse_mode": "HTML"}
    assert request.files["photo"] == ("mappa.jpg", "image/jpeg", image.read_bytes())
    assert receipt.remote_id == "1"


def test_numeric_chat_ids_are_accepted(tmp_path: Path) -> None:
    with FakeTelegram(token=CANARY_TOKEN, chat_id="-1001234567890") as fake:
        _sender(tmp_path, fake.url, chat_id=-1001234567890).send(
            message("ciao", target="telegram", sender="tg")
        )
        assert fake.problems == [] and fake.delivered == 1


def test_the_fake_parses_html_as_telegram_does() -> None:
    assert parse_entities("<b>a</b> &lt;3 &amp; <i>b</i>") == ("a <3 & b", [])
    assert parse_entities("a < b")[1] and parse_entities("a & b")[1]
    assert parse_entities("<h1>x</h1>")[1] and parse_entities("<b>x")[1]
    assert parse_entities("<b><i>x</b></i>")[1]


def test_unparseable_html_is_refused_not_retryable(tmp_path: Path, telegram: FakeTelegram) -> None:
    with pytest.raises(NotDelivered) as info:
        _sender(tmp_path, telegram.url).send(
            message("1 < 2 & <h1>", target="telegram", sender="tg")
        )
    assert not info.value.retryable
    assert "can't parse entities" in str(info.value)
    assert telegram.delivered == 0


FAULTS = [
    (Reply.rate_limited(3), NotDelivered, True, 0),
    (Reply.error(503), NotDelivered, True, 0),
    (Reply.error(400, "Bad Request: chat not found"), NotDelivered, False, 0),
    (
        Reply.error(403, "Forbidden: bot is not a member of the channel chat"),
        NotDelivered,
        False,
        0,
    ),
    (Reply.error(500, deliver=True), MaybeDelivered, None, 1),
    (Reply.slow(3), MaybeDelivered, None, 1),
    (Reply.hang_up(), MaybeDelivered, None, 1),
    (Reply.reset(), MaybeDelivered, None, 1),
    (Reply.raw(200, b"<html>", deliver=True), MaybeDelivered, None, 1),
    (Reply.raw(200, b'{"ok": true, "result": {}}', deliver=True), MaybeDelivered, None, 1),
    (
        Reply.raw(200, b'{"ok": false, "description": "Bad Request: x"}', deliver=False),
        NotDelivered,
        False,
        0,
    ),
]
FAULT_IDS = [
    "429",
    "503",
    "400",
    "403",
    "500",
    "read-timeout",
    "hang-up",
    "reset",
    "not-json",
    "no-message-id",
    "ok-false",
]


@pytest.mark.parametrize(("reply", "kind", "retryable", "delivered"), FAULTS, ids=FAULT_IDS)
def test_faults_are_typed_and_never_show_the_token(
    tmp_path: Path,
    telegram: FakeTelegram,
    reply: Reply,
    kind: type,
    retryable: bool | None,
    delivered: int,
) -> None:
    telegram.script(reply)
    # Short read timeout only where it is the fault: a loaded machine must not turn others into it.
    sender = _sender(tmp_path, telegram.url, timeout=0.5 if reply.delay else 10)
    with captured_logs() as logs, pytest.raises(kind) as info:
        sender.send(message("ciao", target="telegram", sender="tg"))
    if retryable is not None:
        assert info.value.retryable is retryable
    if reply.status == 429:
        assert info.value.retry_after == 3.0  # from the JSON parameters: the fake sends no header
    assert telegram.delivered == delivered
    assert "connect_tcp" in logs.getvalue()  # the capture did see httpx at work
    assert_no_canary(*exception_texts(info.value), logs.getvalue(), repr(sender))


def test_refused_connection_and_wrong_token_never_show_the_token(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    errors: list[SenderError] = []
    for base_url in (f"http://127.0.0.1:{closed_port()}", telegram.url):
        sender = _sender(
            tmp_path / str(len(errors)), base_url, token="111111111:AAotherOTHERotherOTHERother0"
        )
        with pytest.raises(NotDelivered) as info:
            sender.send(message("ciao", target="telegram", sender="tg"))
        errors.append(info.value)
    assert errors[0].retryable and "cannot connect" in str(errors[0])
    assert not errors[1].retryable and "HTTP 401" in str(errors[1])
    for error in errors:
        assert "AAotherOTHER" not in " ".join(exception_texts(error))


def test_token_shape_is_checked_without_quoting_it(tmp_path: Path) -> None:
    with pytest.raises(SenderConfigError) as info:
        _sender(tmp_path, "https://api.telegram.org", token="not-a-token-but-secret")
    assert "senders.tg.token" in str(info.value) and "bot token" in str(info.value)
    assert "not-a-token-but-secret" not in str(info.value)
    with pytest.raises(SenderConfigError, match="senders.tg.chat_id"):
        _sender(tmp_path / "b", "https://api.telegram.org", chat_id="comune cremona")


def test_token_is_not_in_repr_or_dump(tmp_path: Path) -> None:
    sender = _sender(tmp_path, "https://api.telegram.org")
    dumped = json.dumps(sender.options.model_dump(mode="json"))
    assert_no_canary(repr(sender), repr(sender.options), dumped, repr(vars(sender)))
