"""A Telegram Bot API stand-in: `sendMessage`, `sendPhoto`, HTML entity parsing as Telegram does."""

from __future__ import annotations

import html
import json
import re
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from .server import FakeServer, Recorded, Rejection

#: Tags Telegram's HTML parse mode accepts (Bot API, "HTML style").
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def parse_entities(text: str) -> tuple[str, list[str]]:
    """Telegram's view of HTML text: (visible text, problems Telegram would refuse it for)."""
    problems: list[str] = []
    stack: list[str] = []
    visible: list[str] = []
    pos = 0
    for match in _TAG.finditer(text):
        visible.append(_plain(text[pos : match.start()], problems))
        pos = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in ALLOWED_TAGS:
            problems.append(f'can\'t parse entities: unsupported start tag "{name}"')
            continue
        if closing:
            if not stack or stack[-1] != name:
                problems.append(f'can\'t parse entities: unexpected end tag "{name}"')
            else:
                stack.pop()
        else:
            if name == "a" and "href=" not in match.group(3):
                problems.append("can't parse entities: <a> without href")
            stack.append(name)
    visible.append(_plain(text[pos:], problems))
    if stack:
        problems.append(f'can\'t parse entities: unclosed tag "{stack[-1]}"')
    return "".join(visible), problems


def _plain(chunk: str, problems: list[str]) -> str:
    if "<" in chunk or ">" in chunk:
        problems.append(f"can't parse entities: unescaped < or > in {chunk[:40]!r}")
    stripped = _ENTITY.sub("", chunk)
    if "&" in stripped:
        problems.append(f"can't parse entities: unescaped & in {chunk[:40]!r}")
    return html.unescape(chunk)


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram(FakeServer):
    """Plays the Bot API at `/bot<token>/<method>`; `ok: false` JSON errors like Telegram's."""

    def __init__(
        self,
        *,
        token: str = "123456789:AAFakeTokenFakeTokenFakeTokenFake00",
        chat_id: str | None = None,
        delay: float = 0.0,
        port: int = 0,
    ) -> None:
        super().__init__(delay=delay, port=port)
        self.token = token
        self.chat_id = chat_id

    def check(self, request: Recorded) -> Rejection | None:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.path.split("?")[0])
        if match is None or request.method != "POST":
            return _reject(404, "Not Found", f"unknown endpoint {request.method} {request.path}")
        if match.group(1) != self.token:
            return _reject(401, "Unauthorized", "wrong bot token")
        method = match.group(2)
        if method not in ("sendMessage", "sendPhoto"):
            return _reject(404, "Not Found", f"method {method} is not played by the fake")
        problems = _parse_body(request)
        fields = request.form
        if self.chat_id is not None and fields.get("chat_id") != self.chat_id:
            problems.append(f"chat_id {fields.get('chat_id')!r} is not {self.chat_id!r}")
        if fields.get("parse_mode") != "HTML":
            problems.append(f"parse_mode {fields.get('parse_mode')!r} is not HTML")
        if method == "sendMessage":
            text = fields.get("text", "")
            visible, entity_problems = parse_entities(text)
            problems += entity_problems
            if not visible.strip():
                problems.append("message text is empty")
            if utf16_length(visible) > 4096:
                problems.append("message is too long")
        else:
            photo = request.files.get("photo")
            if photo is None:
                problems.append("there is no photo in the request")
            else:
                data = photo[2]
                if not data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
                    problems.append("photo is not JPEG/PNG")
                if len(data) > 10 * 1024 * 1024:
                    problems.append("photo over 10 MB")
            visible, entity_problems = parse_entities(fields.get("caption", ""))
            problems += entity_problems
            if utf16_length(visible) > 1024:
                problems.append("message caption is too long")
        if problems:
            return _reject(400, "Bad Request: " + "; ".join(problems), *problems)
        return None

    def accept(self, request: Recorded, number: int) -> tuple[str, str, Any]:
        fields = request.form
        text = fields.get("text", fields.get("caption", ""))
        visible, _ = parse_entities(text)
        chat = {
            "id": -1001234567890,
            "title": "Comune di Cremona",
            "type": "channel",
            "username": str(fields.get("chat_id", "")).lstrip("@"),
        }
        result: dict[str, Any] = {
            "message_id": number,
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
        }
        if "photo" in request.files:
            result["photo"] = [{"file_id": f"photo{number}", "width": 800, "height": 600}]
            result["caption"] = visible
        else:
            result["text"] = visible
        return visible, str(number), {"ok": True, "result": result}

    def error_json(self, status: int, description: str, retry_after: float | None) -> Any:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": status,
            "description": description or f"fake error {status}",
        }
        if retry_after is not None:
            body["parameters"] = {"retry_after": int(retry_after)}
        return body

    def error_headers(self, status: int, retry_after: float | None) -> dict[str, str]:
        # Telegram says how long to wait in the JSON body (parameters.retry_after), not a header.
        return {}


def _reject(status: int, description: str, *problems: str) -> Rejection:
    return Rejection(
        status,
        {"ok": False, "error_code": status, "description": description},
        list(problems) or [description],
    )


def _parse_body(request: Recorded) -> list[str]:
    """Fill `request.form`/`files` from JSON, urlencoded or multipart, as the Bot API accepts."""
    ctype = request.header("content-type") or ""
    if ctype.startswith("application/json"):
        try:
            data = json.loads(request.body)
        except ValueError as exc:
            return [f"body is not JSON: {exc}"]
        request.json = data
        if not isinstance(data, dict):
            return ["body is not a JSON object"]
        request.form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
        if isinstance(data.get("chat_id"), int):
            request.form["chat_id"] = str(data["chat_id"])
        return []
    if ctype.startswith("application/x-www-form-urlencoded"):
        request.form = dict(parse_qsl(request.body.decode("utf-8")))
        return []
    if ctype.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + request.body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                request.files[str(name)] = (filename, part.get_content_type(), payload)
            else:
                request.form[str(name)] = payload.decode(part.get_content_charset() or "utf-8")
        return []
    return [f"unsupported Content-Type {ctype!r}"]
