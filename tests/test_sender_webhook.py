"""`webhook`: the SPEC §5.1 body, its HMAC signature, and one Idempotency-Key per publication."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeWebhook, Reply, closed_port
from fakes.webhook import BODY_FIELDS
from sender_support import (
    CANARY_HEADER,
    CANARY_SECRET,
    assert_no_canary,
    captured_logs,
    exception_texts,
    message,
    png,
    project_config,
)

from comunicast.senders.base import MaybeDelivered, NotDelivered, SenderConfigError
from comunicast.senders.registry import create_sender, installed_adapters
from comunicast.senders.webhook import WebhookSender


@pytest.fixture
def hook() -> Iterator[FakeWebhook]:
    with FakeWebhook(
        secret=CANARY_SECRET, required_headers={"Authorization": CANARY_HEADER}
    ) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", CANARY_SECRET)
    monkeypatch.setenv("HOOK_AUTH", CANARY_HEADER)


def _sender(tmp_path: Path, url: str, **extra: object) -> WebhookSender:
    options = {
        "adapter": "webhook",
        "url": url,
        "secret": "${HOOK_SECRET}",
        "headers": {"Authorization": "${HOOK_AUTH}"},
        **extra,
    }
    sender = create_sender(project_config(tmp_path / "p", {"wh": options}), "wh")
    assert isinstance(sender, WebhookSender)
    return sender


def test_registered_with_its_limits() -> None:
    assert installed_adapters()["webhook"].adapter is WebhookSender
    assert WebhookSender.limits.target == "plain" and WebhookSender.limits.idempotency


def test_body_signature_and_headers(tmp_path: Path, hook: FakeWebhook) -> None:
    msg = message("Ponte sul Po chiuso", target="plain", sender="wh", key="k-123")
    receipt = _sender(tmp_path, hook.url + "/comunicast").send(msg)
    assert hook.problems == []
    [request] = hook.requests
    assert request.path == "/comunicast"
    assert request.header("idempotency-key") == "k-123"
    assert request.header("authorization") == CANARY_HEADER
    expected = hmac.new(CANARY_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.header("x-comunicast-signature") == f"sha256={expected}"
    body = json.loads(request.body)
    assert set(body) == BODY_FIELDS
    assert body["version"] == 1 and body["draft_id"] == msg.draft_id and body["sender"] == "wh"
    assert body["revision"] == msg.revision and body["kind"] == "avviso"
    assert body["text"] == msg.plain and body["markdown"] == msg.markdown
    assert body["links"] == msg.links and body["image"] is None
    assert body["publish_at"] == "2026-12-01T08:00:00+01:00" and body["sent_at"].endswith("+00:00")
    assert receipt.remote_id == "wh-1"


def test_image_travels_in_the_body(tmp_path: Path, hook: FakeWebhook) -> None:
    image = png(tmp_path / "grafico.png")
    _sender(tmp_path, hook.url).send(message(target="plain", sender="wh", image=image))
    assert hook.problems == []
    sent = hook.requests[0].json["image"]
    assert sent["filename"] == "grafico.png" and sent["mimetype"] == "image/png"
    assert base64.b64decode(sent["data"]) == image.read_bytes()


def test_retries_resend_the_same_bytes_and_key(tmp_path: Path, hook: FakeWebhook) -> None:
    hook.script(Reply.error(503), Reply.slow(4))
    sender = _sender(tmp_path, hook.url, timeout=1.5)
    msg = message(target="plain", sender="wh", key="publication-7")
    with pytest.raises(NotDelivered):
        sender.send(msg)
    with pytest.raises(MaybeDelivered):
        sender.send(msg)
    receipt = sender.send(msg)
    bodies = {r.body for r in hook.requests}
    keys = {r.header("idempotency-key") for r in hook.requests}
    assert len(hook.requests) == 3 and len(bodies) == 1 and keys == {"publication-7"}
    # The receiver honours the key: the retry after the timeout did not publish twice.
    assert hook.delivered == 1 and hook.replays == 1 and hook.duplicates() == {}
    assert receipt.remote_id == "wh-1"


def test_a_bare_ok_answer_uses_the_key_as_remote_id(tmp_path: Path, hook: FakeWebhook) -> None:
    hook.script(Reply.raw(200, b"OK"))
    receipt = _sender(tmp_path, hook.url).send(message(target="plain", sender="wh", key="k-9"))
    assert receipt.remote_id == "k-9"


def test_the_fake_checks_the_signature(tmp_path: Path, hook: FakeWebhook) -> None:
    with FakeWebhook(secret="another-secret-entirely-000") as other:
        with pytest.raises(NotDelivered, match="HTTP 400"):
            _sender(tmp_path, other.url).send(message(target="plain", sender="wh"))
        assert other.problems == ["X-Comunicast-Signature does not match the body"]


@pytest.mark.parametrize(
    ("reply", "kind", "retryable"),
    [
        (Reply.rate_limited(1), NotDelivered, True),
        (Reply.error(503), NotDelivered, True),
        (Reply.error(400, "missing field"), NotDelivered, False),
        (Reply.error(500), MaybeDelivered, None),
        (Reply.slow(3), MaybeDelivered, None),
        (Reply.reset(), MaybeDelivered, None),
    ],
    ids=["429", "503", "400", "500", "read-timeout", "reset"],
)
def test_faults_never_show_the_secrets(
    tmp_path: Path, hook: FakeWebhook, reply: Reply, kind: type, retryable: bool | None
) -> None:
    hook.script(reply)
    sender = _sender(tmp_path, hook.url, timeout=0.5 if reply.delay else 10)
    with captured_logs() as logs, pytest.raises(kind) as info:
        sender.send(message(target="plain", sender="wh"))
    if retryable is not None:
        assert info.value.retryable is retryable
    assert_no_canary(*exception_texts(info.value), logs.getvalue(), repr(sender))


def test_connection_refused(tmp_path: Path) -> None:
    with pytest.raises(NotDelivered) as info:
        _sender(tmp_path, f"http://127.0.0.1:{closed_port()}/x").send(
            message(target="plain", sender="wh")
        )
    assert info.value.retryable


def test_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(SenderConfigError, match="senders.wh.headers"):
        _sender(tmp_path / "a", "https://hooks.example.it", headers={"Idempotency-Key": "x"})
    with pytest.raises(SenderConfigError, match="senders.wh.url"):
        _sender(tmp_path / "b", "http://hooks.example.it")
    with pytest.raises(SenderConfigError) as info:
        _sender(tmp_path / "c", "https://hooks.example.it", secret="short-secret")
    assert "senders.wh.secret" in str(info.value) and "short-secret" not in str(info.value)
