"""`webhook`: a signed JSON POST to any HTTPS endpoint (SPEC §5.1).

Every attempt of one publication carries the same `Idempotency-Key`, and within a run the very
same bytes, so a receiver that honours the key can safely see a retry. Corrections (SPEC §10)
are the same signed POST with `"action": "edit"` (the new text, and `"replaces"`: the remote id
of the message it changes) or `"action": "withdraw"` (`"replaces"` and `"reason"`), each with a
key of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, SecretStr, field_validator

from comunicast.i18n import _
from comunicast.senders.base import Edit, Limits, Message, Receipt, SenderOptions, Withdrawal
from comunicast.senders.http import Scrubber, check_url, classify, json_body, make_client, post
from comunicast.senders.media import read_image

if TYPE_CHECKING:
    import httpx

    from comunicast.config import Config

SIGNATURE_HEADER = "X-Comunicast-Signature"
MIN_SECRET = 16
_RESERVED = {"content-type", "content-length", "host", "idempotency-key", SIGNATURE_HEADER.lower()}


def _check_headers(value: dict[str, SecretStr]) -> dict[str, SecretStr]:
    for name in value:
        if name.lower() in _RESERVED:
            raise ValueError(_("header {name} is set by comunicast itself").format(name=name))
        if not name or any(c in name for c in " :\r\n"):
            raise ValueError(_("{name!r} is not a valid header name").format(name=name))
    return value


def _check_secret(value: SecretStr) -> SecretStr:
    # The message must not quote the value, nor its length.
    if len(value.get_secret_value()) < MIN_SECRET:
        raise ValueError(
            _(
                "must be a long random string (at least {n} characters, e.g. `openssl rand -hex 32`)"
            ).format(n=MIN_SECRET)
        )
    return value


class WebhookOptions(SenderOptions):
    """Options of a `webhook` sender."""

    url: str = Field(description="Endpoint (https://…, or http:// on loopback)")
    secret: SecretStr = Field(description="HMAC-SHA256 key for X-Comunicast-Signature; use ${VAR}")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="Extra headers (e.g. Authorization); values are secret"
    )

    _url = field_validator("url")(classmethod(lambda cls, v: check_url(v)))
    _headers = field_validator("headers")(classmethod(lambda cls, v: _check_headers(v)))
    _secret = field_validator("secret")(classmethod(lambda cls, v: _check_secret(v)))


def signature(secret: bytes, body: bytes) -> str:
    """The value of X-Comunicast-Signature: `sha256=<hex HMAC-SHA256 of the raw body>`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookSender:
    """POSTs the publication as JSON; the remote id is the receiver's `id`, else the key."""

    name: ClassVar[str] = "webhook"
    limits: ClassVar[Limits] = Limits(
        target="plain",
        max_text=4096,
        max_caption=4096,
        images=True,
        max_image_bytes=5 * 1024 * 1024,
        idempotency=True,
        min_interval=0.0,
        can_edit=True,
        can_withdraw=True,
    )
    Options: ClassVar[type[SenderOptions]] = WebhookOptions

    def __init__(self, instance: str, options: Any, config: Config) -> None:
        from comunicast.senders.registry import coerce_options

        self.instance = instance
        self.options: WebhookOptions = coerce_options(type(self), options, config, instance)
        header_values = {k: v.get_secret_value() for k, v in self.options.headers.items()}
        self._scrub = Scrubber([self.options.secret.get_secret_value(), *header_values.values()])
        self._headers = header_values
        self._client: httpx.Client | None = None
        # Retries within a run resend the same bytes (same `sent_at`), hence the same signature.
        self._bodies: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"<WebhookSender {self.instance!r}>"

    def body(self, message: Message) -> bytes:
        """The JSON body of `message` (SPEC §5.1), built once per idempotency key."""
        key = self._key(message)
        if key not in self._bodies:
            self._bodies[key] = self._dump(self._document(message))
        return self._bodies[key]

    @staticmethod
    def _dump(document: dict[str, Any]) -> bytes:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _document(self, message: Message) -> dict[str, Any]:
        """The SPEC §5.1 fields of `message` (the image inline, base64)."""
        image = None
        if message.image is not None:
            img = read_image(message.image, self.limits.max_image_bytes, self._what)
            image = {
                "filename": img.filename,
                "mimetype": img.mimetype,
                "data": base64.b64encode(img.data).decode("ascii"),
            }
        document = {
            "version": 1,
            "draft_id": message.draft_id,
            "sender": message.sender,
            "revision": message.revision,
            "kind": message.kind,
            "title": message.title,
            "text": message.plain,
            "markdown": message.markdown,
            "links": list(message.links),
            "image": image,
            "publish_at": message.publish_at.isoformat() if message.publish_at else None,
            "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        return document

    def edit_body(self, edit: Edit) -> bytes:
        """The body of a correction: the publication's fields, `action` and `replaces`."""
        if edit.idempotency_key not in self._bodies:
            document = self._document(edit.message)
            document.update(action="edit", replaces=edit.remote_id)
            self._bodies[edit.idempotency_key] = self._dump(document)
        return self._bodies[edit.idempotency_key]

    def withdraw_body(self, withdrawal: Withdrawal) -> bytes:
        """The body of a withdrawal: which message, why, and when it was asked."""
        if withdrawal.idempotency_key not in self._bodies:
            self._bodies[withdrawal.idempotency_key] = self._dump({
                "version": 1,
                "action": "withdraw",
                "draft_id": withdrawal.draft_id,
                "sender": withdrawal.sender,
                "revision": withdrawal.revision,
                "replaces": withdrawal.remote_id,
                "reason": withdrawal.reason,
                "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
            })
        return self._bodies[withdrawal.idempotency_key]

    @property
    def _what(self) -> str:
        return f"webhook {self.instance}"

    @staticmethod
    def _key(message: Message) -> str:
        return message.idempotency_key or f"{message.draft_id}:{message.sender}:{message.revision}"

    def send(self, message: Message) -> Receipt:
        """POST the signed body with the publication's idempotency key."""
        key = self._key(message)
        return self._post(key, self.body(message), fallback_id=key)

    def edit(self, edit: Edit) -> Receipt:
        """POST the correction (`"action": "edit"`) with its own idempotency key."""
        self._post(edit.idempotency_key, self.edit_body(edit), fallback_id=edit.remote_id)
        return Receipt(remote_id=edit.remote_id)

    def withdraw(self, withdrawal: Withdrawal) -> Receipt:
        """POST the withdrawal; a receiver that no longer knows the message (404, 410) agrees."""
        self._post(withdrawal.idempotency_key, self.withdraw_body(withdrawal),
                   fallback_id=withdrawal.remote_id, gone_is_done=True)
        return Receipt(remote_id=withdrawal.remote_id)

    def _post(self, key: str, body: bytes, *, fallback_id: str,
              gone_is_done: bool = False) -> Receipt:
        headers = {
            **self._headers,
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            SIGNATURE_HEADER: signature(self.options.secret.get_secret_value().encode(), body),
        }
        if self._client is None:
            self._client = make_client(self.options.timeout, url=self.options.url)
        response = post(
            self._client, self.options.url, self._scrub, self._what, content=body, headers=headers
        )
        if gone_is_done and response.status_code in (404, 410):
            return Receipt(remote_id=fallback_id)
        classify(response, self._scrub, self._what)
        # Any 2xx is an acceptance: receivers often answer a bare "OK".
        answer = json_body(response)
        ident = answer.get("id") if isinstance(answer, dict) else None
        return Receipt(remote_id=str(ident) if ident not in (None, "") else fallback_id)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None
