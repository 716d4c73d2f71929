"""`telegram`: a Telegram channel through the Bot API (`sendMessage`, `sendPhoto`, HTML).

The bot token is part of the URL path (`/bot<token>/sendMessage`): every message built here
masks it, the URL is built per request and never stored, and httpx's log records are masked.
Corrections (SPEC §10): `editMessageText`, or `editMessageCaption` for a photo post, and
`deleteMessage`. Telegram's "message is not modified" (the same text again) and "message to
delete not found" (deleted already) are what was asked for, so they count as done.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, SecretStr, field_validator

from comunicast.i18n import _
from comunicast.senders.base import (
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
    error_description,
    json_body,
    make_client,
    post,
)
from comunicast.senders.media import read_image

if TYPE_CHECKING:
    import httpx

    from comunicast.config import Config

_CHAT_ID = re.compile(r"^(?:@[A-Za-z][A-Za-z0-9_]{3,}|-?\d+)$")
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


def _check_chat_id(value: str | int) -> str:
    text = str(value).strip()
    if not _CHAT_ID.match(text):
        raise ValueError(_("must be @channelname or a numeric chat id such as -1001234567890"))
    return text


def _check_token(value: SecretStr) -> SecretStr:
    # The message must not quote the value: it is a secret.
    if not _TOKEN.match(value.get_secret_value().strip()):
        raise ValueError(_("does not look like a bot token (123456789:AA…, from @BotFather)"))
    return SecretStr(value.get_secret_value().strip())


class TelegramOptions(SenderOptions):
    """Options of a `telegram` sender."""

    chat_id: str = Field(description='Channel: "@name" or numeric id (-100…)')
    token: SecretStr = Field(description="Bot token from @BotFather; use ${TELEGRAM_BOT_TOKEN}")
    base_url: str = Field(default="https://api.telegram.org", description="Bot API server")
    disable_web_page_preview: bool = Field(default=False, description="No link preview")

    _chat = field_validator("chat_id", mode="before")(classmethod(lambda cls, v: _check_chat_id(v)))
    _token = field_validator("token")(classmethod(lambda cls, v: _check_token(v)))
    _url = field_validator("base_url")(classmethod(lambda cls, v: check_url(v)))


class TelegramSender:
    """Posts to a Telegram channel as its bot; the remote id is Telegram's `message_id`."""

    name: ClassVar[str] = "telegram"
    limits: ClassVar[Limits] = Limits(
        target="telegram",
        max_text=4096,
        max_caption=1024,
        images=True,
        max_image_bytes=10 * 1024 * 1024,
        idempotency=False,
        min_interval=0.0,
        can_edit=True,
        can_withdraw=True,
    )
    Options: ClassVar[type[SenderOptions]] = TelegramOptions

    def __init__(self, instance: str, options: Any, config: Config) -> None:
        from comunicast.senders.registry import coerce_options

        self.instance = instance
        self.options: TelegramOptions = coerce_options(type(self), options, config, instance)
        self._scrub = Scrubber([self.options.token.get_secret_value()])
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"<TelegramSender {self.instance!r} {self.options.chat_id}>"

    def _url(self, method: str) -> str:
        return f"{self.options.base_url}/bot{self.options.token.get_secret_value()}/{method}"

    def send(self, message: Message) -> Receipt:
        """sendPhoto (caption) when the message has an image, else sendMessage."""
        what = f"telegram {self.instance}"
        if self._client is None:
            self._client = make_client(self.options.timeout, url=self.options.base_url)
        if message.image is not None:
            image = read_image(message.image, self.limits.max_image_bytes, what)
            fields = {
                "chat_id": self.options.chat_id,
                "caption": message.text,
                "parse_mode": "HTML",
            }
            response = post(
                self._client,
                self._url("sendPhoto"),
                self._scrub,
                what,
                data=fields,
                files={"photo": (image.filename, image.data, image.mimetype)},
            )
        else:
            payload: dict[str, Any] = {
                "chat_id": self.options.chat_id,
                "text": message.text,
                "parse_mode": "HTML",
            }
            if self.options.disable_web_page_preview:
                payload["link_preview_options"] = {"is_disabled": True}
            response = post(self._client, self._url("sendMessage"), self._scrub, what, json=payload)
        return Receipt(remote_id=self._message_id(response, what))

    def _message_id(self, response: httpx.Response, what: str) -> str:
        classify(response, self._scrub, what)
        body = json_body(response)
        if not isinstance(body, dict):
            raise MaybeDelivered(
                _(
                    "{what}: HTTP {status} with a body that is not JSON; "
                    "the message may have been delivered"
                ).format(what=what, status=response.status_code)
            )
        if body.get("ok") is False:
            # A 2xx that says it failed: Telegram did not post it.
            raise NotDelivered(
                f"{what}: " + self._scrub(error_description(response) or "ok: false")
            )
        result = body.get("result")
        ident = result.get("message_id") if isinstance(result, dict) else None
        if ident is None:
            raise MaybeDelivered(
                _(
                    "{what}: the answer has no message_id; the message may have been delivered"
                ).format(what=what)
            )
        return str(ident)

    def edit(self, edit: Edit) -> Receipt:
        """editMessageText (editMessageCaption for a photo post) with the new HTML text."""
        what = f"telegram {self.instance}"
        message = edit.message
        payload: dict[str, Any] = {
            "chat_id": self.options.chat_id,
            "message_id": _message_number(edit.remote_id, what),
            "parse_mode": "HTML",
        }
        if message.image is not None:
            method = "editMessageCaption"
            payload["caption"] = message.text
        else:
            method = "editMessageText"
            payload["text"] = message.text
            if self.options.disable_web_page_preview:
                payload["link_preview_options"] = {"is_disabled": True}
        self._answer(self._call(method, payload, what), what, harmless="message is not modified")
        return Receipt(remote_id=edit.remote_id)

    def withdraw(self, withdrawal: Withdrawal) -> Receipt:
        """deleteMessage; a message already deleted counts as deleted."""
        what = f"telegram {self.instance}"
        payload = {
            "chat_id": self.options.chat_id,
            "message_id": _message_number(withdrawal.remote_id, what),
        }
        self._answer(
            self._call("deleteMessage", payload, what), what,
            harmless="message to delete not found",
        )
        return Receipt(remote_id=withdrawal.remote_id)

    def _call(self, method: str, payload: dict[str, Any], what: str) -> httpx.Response:
        if self._client is None:
            self._client = make_client(self.options.timeout, url=self.options.base_url)
        return post(self._client, self._url(method), self._scrub, what, json=payload)

    def _answer(self, response: httpx.Response, what: str, *, harmless: str) -> None:
        """Classify a correction's answer; an error whose description has `harmless` is success."""
        if response.status_code == 400 and harmless in error_description(response).lower():
            return
        classify(response, self._scrub, what)
        body = json_body(response)
        if not isinstance(body, dict):
            raise MaybeDelivered(
                _(
                    "{what}: HTTP {status} with a body that is not JSON; "
                    "the change may have been made"
                ).format(what=what, status=response.status_code)
            )
        if body.get("ok") is False:
            raise NotDelivered(
                f"{what}: " + self._scrub(error_description(response) or "ok: false")
            )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None


def _message_number(remote_id: str, what: str) -> int:
    """Telegram's message_id (recorded as a string) as the integer the Bot API expects."""
    try:
        return int(remote_id)
    except ValueError:
        raise NotDelivered(
            _("{what}: {id!r} is not a Telegram message id").format(what=what, id=remote_id)
        ) from None
