"""A Telegram Bot API stand-in: `sendMessage`, `sendPhoto`, HTML entity parsing as Telegram does,
and `editMessageText`, `editMessageCaption`, `deleteMessage` on the messages it keeps, with
Telegram's own errors ("message is not modified", "message to delete not found", …)."""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass, field
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
CORRECTIONS = ("editMessageText", "editMessageCaption", "deleteMessage")


@dataclass
class Posted:
    """A channel post the fake holds: its HTML text (or caption) now, its edits, deletion."""

    text: str
    photo: bool
    edits: list[str] = field(default_factory=list)
    deleted: bool = False


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
        #: Every post by message_id.
        self.posts: dict[int, Posted] = {}

    @staticmethod
    def method_of(request: Recorded) -> str:
        """The Bot API method a request calls."""
        return request.path.split("?")[0].rsplit("/", 1)[-1]

    def is_correction(self, request: Recorded) -> bool:
        return self.method_of(request) in CORRECTIONS

    def text_of(self, message_id: int | str) -> str | None:
        """The HTML text (or caption) a post shows now (None when deleted or unknown)."""
        with self._lock:
            post = self.posts.get(int(message_id))
            return None if post is None or post.deleted else post.text

    def apply(self, request: Recorded) -> tuple[int, Any]:
        method = self.method_of(request)
        fields = request.form
        try:
            post = self.posts.get(int(fields.get("message_id", "")))
        except ValueError:
            post = None
        if method == "deleteMessage":
            if post is None or post.deleted:
                return 400, _error(400, "Bad Request: message to delete not found")
            post.deleted = True
            return 200, {"ok": True, "result": True}
        if post is None or post.deleted:
            return 400, _error(400, "Bad Request: message to edit not found")
        text = fields.get("text" if method == "editMessageText" else "caption", "")
        if post.photo and method == "editMessageText":
            return 400, _error(400, "Bad Request: there is no text in the message to edit")
        if not post.photo and method == "editMessageCaption":
            return 400, _error(400, "Bad Request: there is no caption in the message to edit")
        if text == post.text:
            return 400, _error(400, "Bad Request: message is not modified: specified new "
                                    "message content and reply markup are exactly the same as "
                                    "a current content and reply markup of the message")
        post.text = text
        post.edits.append(text)
        visible, _ = parse_entities(text)
        result: dict[str, Any] = {"message_id": int(fields["message_id"]),
                                  "date": int(time.time()), "edit_date": int(time.time())}
        result["caption" if post.photo else "text"] = visible
        return 200, {"ok": True, "result": result}

    def check(self, request: Recorded) -> Rejection | None:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.path.split("?")[0])
        if match is None or request.method != "POST":
            return _reject(404, "Not Found", f"unknown endpoint {request.method} {request.path}")
        if match.group(1) != self.token:
            return _reject(401, "Unauthorized", "wrong bot token")
        method = match.group(2)
        if method not in ("sendMessage", "sendPhoto", *CORRECTIONS):
            return _reject(404, "Not Found", f"method {method} is not played by the fake")
        problems = _parse_body(request)
        fields = request.form
        if method in CORRECTIONS:
            return self._check_correction(method, fields, problems)
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

    def _check_correction(
        self, method: str, fields: dict[str, str], problems: list[str]
    ) -> Rejection | None:
        if self.chat_id is not None and fields.get("chat_id") != self.chat_id:
            problems.append(f"chat_id {fields.get('chat_id')!r} is not {self.chat_id!r}")
        if not re.fullmatch(r"\d+", fields.get("message_id", "")):
            problems.append(f"message_id {fields.get('message_id')!r} is not an integer")
        if method != "deleteMessage":
            if fields.get("parse_mode") != "HTML":
                problems.append(f"parse_mode {fields.get('parse_mode')!r} is not HTML")
            key = "text" if method == "editMessageText" else "caption"
            visible, entity_problems = parse_entities(fields.get(key, ""))
            problems += entity_problems
            if method == "editMessageText" and not visible.strip():
                problems.append("message text is empty")
            if utf16_length(visible) > (4096 if key == "text" else 1024):
                problems.append(f"message {key} is too long")
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
        if number:  # 0: only the shape of an answer is asked for
            raw = fields.get("text", fields.get("caption", ""))
            self.posts[number] = Posted(raw, photo="photo" in request.files)
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


def _error(status: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": status, "description": description}


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
