"""`waha`: a WhatsApp Channel through a WAHA gateway (`/api/sendText`, `/api/sendImage`).

WhatsApp has no official API for Channels; WAHA drives WhatsApp Web. Requests follow WAHA's
OpenAPI 2024.9.2 (`MessageTextRequest`, `MessageImageRequest` with a base64 `BinaryFile`).
Sending images needs WAHA Plus; WAHA Core answers 4xx, which is reported as not delivered.
Corrections (SPEC §10) use `PUT /api/{session}/chats/{chatId}/messages/{messageId}`
(`EditMessageRequest`: the new text, which is the caption of an image update) and `DELETE` on
the same path; WhatsApp lets a Channel's admins edit an update for 30 days.
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, SecretStr, field_validator

from comunicast.i18n import _
from comunicast.senders.base import (
    DAY,
    WHATSAPP,
    Edit,
    Limits,
    MaybeDelivered,
    Message,
    NotDelivered,
    Receipt,
    SenderOptions,
    Withdrawal,
)
from comunicast.senders.http import (
    Scrubber,
    check_url,
    classify,
    json_body,
    make_client,
    post,
    request,
)
from comunicast.senders.media import read_image

if TYPE_CHECKING:
    import httpx

    from comunicast.config import Config


_CHAT_ID = re.compile(r"^[0-9A-Za-z._-]+@(?:newsletter|g\.us|c\.us|s\.whatsapp\.net|lid)$")


def _check_chat_id(value: str) -> str:
    text = value.strip()
    if not _CHAT_ID.match(text):
        # The usual mistake: pasting the channel's invite link instead of its id.
        raise ValueError(
            _(
                "must be a WhatsApp chat id such as 120363000000000000@newsletter "
                "(the channel id from WAHA's GET /api/{session}/channels, not the invite link)"
            )
        )
    return text


class WahaOptions(SenderOptions):
    """Options of a `waha` sender."""

    base_url: str = Field(description="WAHA address, e.g. http://127.0.0.1:3000 or https://…")
    session: str = Field(default="default", min_length=1, description="WAHA session name")
    chat_id: str = Field(min_length=1, description="Channel id, e.g. 120363000000000000@newsletter")
    api_key: SecretStr | None = Field(default=None, description="WAHA API key (X-Api-Key)")
    link_preview: bool | None = Field(
        default=None,
        description="Ask WAHA for a link preview (newer WAHA versions; default: WAHA's)",
    )

    _url = field_validator("base_url")(classmethod(lambda cls, v: check_url(v)))
    _chat = field_validator("chat_id")(classmethod(lambda cls, v: _check_chat_id(v)))


class WahaSender:
    """Posts to a WhatsApp Channel through WAHA; the remote id is WhatsApp's message id."""

    name: ClassVar[str] = "waha"
    # WAHA's send API takes no idempotency key; posts are spaced 3 s apart unless configured.
    limits: ClassVar[Limits] = replace(
        WHATSAPP, idempotency=False, min_interval=3.0,
        can_edit=True, can_withdraw=True, edit_window=30 * DAY,
    )
    Options: ClassVar[type[SenderOptions]] = WahaOptions

    def __init__(self, instance: str, options: Any, config: Config) -> None:
        from comunicast.senders.registry import coerce_options

        self.instance = instance
        self.options: WahaOptions = coerce_options(type(self), options, config, instance)
        key = self.options.api_key.get_secret_value() if self.options.api_key else None
        self._scrub = Scrubber([key])
        self._headers = {"X-Api-Key": key} if key else {}
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"<WahaSender {self.instance!r} {self.options.base_url}>"

    def send(self, message: Message) -> Receipt:
        """POST the text (or the image with its caption) and return WhatsApp's message id."""
        what = f"waha {self.instance}"
        payload: dict[str, Any] = {"session": self.options.session, "chatId": self.options.chat_id}
        if message.image is not None:
            image = read_image(message.image, self.limits.max_image_bytes, what)
            endpoint = "/api/sendImage"
            payload["file"] = {
                "mimetype": image.mimetype,
                "filename": image.filename,
                "data": base64.b64encode(image.data).decode("ascii"),
            }
            payload["caption"] = message.text
        else:
            endpoint = "/api/sendText"
            payload["text"] = message.text
            if self.options.link_preview is not None:
                payload["linkPreview"] = self.options.link_preview
        if self._client is None:
            self._client = make_client(self.options.timeout, self._headers, url=self.options.base_url)
        response = post(
            self._client, self.options.base_url + endpoint, self._scrub, what, json=payload
        )
        classify(response, self._scrub, what)
        return Receipt(remote_id=_message_id(response, what))

    def _message_url(self, remote_id: str) -> str:
        from urllib.parse import quote

        return (
            f"{self.options.base_url}/api/{quote(self.options.session, safe='')}/chats/"
            f"{quote(self.options.chat_id, safe='')}/messages/{quote(remote_id, safe='')}"
        )

    def _client_for_corrections(self) -> httpx.Client:
        if self._client is None:
            self._client = make_client(self.options.timeout, self._headers, url=self.options.base_url)
        return self._client

    def edit(self, edit: Edit) -> Receipt:
        """PUT the new text (the caption, for an image update) on the published message."""
        what = f"waha {self.instance}"
        response = request(
            self._client_for_corrections(), "PUT", self._message_url(edit.remote_id),
            self._scrub, what, json={"text": edit.message.text},
        )
        if response.status_code == 404:
            raise NotDelivered(
                _("{what}: the message {id} is no longer in the channel (deleted?)").format(
                    what=what, id=edit.remote_id)
            )
        classify(response, self._scrub, what)
        return Receipt(remote_id=edit.remote_id)

    def withdraw(self, withdrawal: Withdrawal) -> Receipt:
        """DELETE the published message; one already gone (404) counts as deleted."""
        what = f"waha {self.instance}"
        response = request(
            self._client_for_corrections(), "DELETE", self._message_url(withdrawal.remote_id),
            self._scrub, what,
        )
        if response.status_code != 404:  # a second delete finds nothing: that is the goal
            classify(response, self._scrub, what)
        return Receipt(remote_id=withdrawal.remote_id)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None


def _message_id(response: httpx.Response, what: str) -> str | None:
    """WhatsApp's id from WAHA's answer: `id` as a string, or `{"_serialized": …}` (WEBJS), or `key.id`."""
    body = json_body(response)
    if body is None and response.content.strip():
        raise MaybeDelivered(
            _(
                "{what}: HTTP {status} with a body that is not JSON; "
                "the message may have been delivered"
            ).format(what=what, status=response.status_code)
        )
    if not isinstance(body, dict):
        return None
    ident = body.get("id")
    if isinstance(ident, dict):
        ident = ident.get("_serialized") or ident.get("id")
    if ident is None and isinstance(body.get("key"), dict):
        ident = body["key"].get("id")
    return str(ident) if ident not in (None, "") else None
