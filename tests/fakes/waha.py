"""A WAHA stand-in: `/api/sendText` and `/api/sendImage`, and the edit (PUT) and deletion
(DELETE) of `/api/{session}/chats/{chatId}/messages/{messageId}`, validated against WAHA's
OpenAPI schemas. It keeps every published message (its text now, its edits, whether deleted)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from .server import FakeServer, Recorded, Rejection, decode_image

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "waha_openapi_requests.json"
#: Request fields newer WAHA versions accept beyond the 2024.9.2 schemas (sent only when configured).
KNOWN_EXTRAS = {"/api/sendText": {"linkPreview"}, "/api/sendImage": set()}


@cache
def openapi() -> dict[str, Any]:
    """The transcribed WAHA 2024.9.2 schemas (tests/fixtures/waha_openapi_requests.json)."""
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


#: The path of a message, as WAHA's OpenAPI names it (PUT edits it, DELETE deletes it).
MESSAGE_PATH = "/api/{session}/chats/{chatId}/messages/{messageId}"
_MESSAGE = re.compile(r"^/api/(?P<session>[^/]+)/chats/(?P<chatId>[^/]+)/messages/(?P<messageId>[^/]+)$")


@dataclass
class Published:
    """A message the fake channel holds."""

    chat_id: str
    text: str
    has_media: bool
    edits: list[str] = field(default_factory=list)
    deleted: bool = False


def request_schema(path: str, method: str = "post") -> dict[str, Any]:
    """A JSON Schema (2020-12) for the request body of `method` `path`, refs resolvable in place."""
    doc = openapi()
    ref = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": ref,
        "components": doc["components"],
    }


def response_schema(path: str) -> dict[str, Any]:
    """The JSON Schema of the 201 answer of POST `path`."""
    doc = openapi()
    schema = doc["paths"][path]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "components": doc["components"],
    }


@cache
def _validator(path: str, method: str = "post") -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(request_schema(path, method))


def schema_errors(path: str, body: Any, method: str = "post") -> list[str]:
    """Validation errors of `body` against the request schema of `method` `path` (jsonschema)."""
    validator = _validator(path, method)
    return [
        f"{method.upper()} {path}: {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
        for e in validator.iter_errors(body)
    ]


def properties(path: str, method: str = "post") -> set[str]:
    """The fields the request schema of `method` `path` names."""
    doc = openapi()
    ref = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return set(doc["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"])


def path_parameters(path: str, method: str) -> dict[str, dict[str, Any]]:
    """The path parameters `method` `path` declares, by name."""
    params = openapi()["paths"][path][method]["parameters"]
    return {p["name"]: p for p in params if p["in"] == "path"}


class FakeWaha(FakeServer):
    """Plays WAHA: checks X-Api-Key, the schema, session, chat id and image data; answers WAMessage.

    `id_style`: `string` answers `"id": "true_<chat>_<hex>"` (NOWEB/GOWS), `serialized` answers
    `"id": {"_serialized": …}` (WEBJS).
    """

    success_status = 201

    def __init__(
        self,
        *,
        api_key: str | None = "waha-test-key",
        session: str = "default",
        chat_id: str | None = None,
        id_style: Literal["string", "serialized"] = "string",
        delay: float = 0.0,
        port: int = 0,
    ) -> None:
        super().__init__(delay=delay, port=port)
        self.api_key = api_key
        self.session = session
        self.chat_id = chat_id
        self.id_style = id_style
        #: Every published message by its serialized id.
        self.messages: dict[str, Published] = {}

    def is_correction(self, request: Recorded) -> bool:
        return request.method in ("PUT", "DELETE") and _MESSAGE.match(request.path) is not None

    def text_of(self, remote_id: str) -> str | None:
        """The text a message shows now (None when deleted or unknown)."""
        with self._lock:
            message = self.messages.get(remote_id)
            return None if message is None or message.deleted else message.text

    def check(self, request: Recorded) -> Rejection | None:
        if self.is_correction(request):
            return self._check_correction(request)
        if request.path not in KNOWN_EXTRAS or request.method != "POST":
            return Rejection(
                404,
                {
                    "statusCode": 404,
                    "message": f"Cannot {request.method} {request.path}",
                    "error": "Not Found",
                },
                [f"unknown endpoint {request.method} {request.path}"],
            )
        if self.api_key is not None and request.header("x-api-key") != self.api_key:
            return Rejection(
                401, {"statusCode": 401, "message": "Unauthorized"}, ["missing or wrong X-Api-Key"]
            )
        problems: list[str] = []
        if not (request.header("content-type") or "").startswith("application/json"):
            problems.append("Content-Type is not application/json")
        try:
            request.json = json.loads(request.body)
        except ValueError as exc:
            problems.append(f"body is not JSON: {exc}")
            return Rejection(400, {"statusCode": 400, "message": "Bad Request"}, problems)
        body = request.json
        problems += schema_errors(request.path, body)
        if isinstance(body, dict):
            extra = set(body) - properties(request.path) - KNOWN_EXTRAS[request.path]
            if extra:
                problems.append(f"{request.path}: fields WAHA does not know: {sorted(extra)}")
            if body.get("session") != self.session:
                problems.append(f"session {body.get('session')!r} is not {self.session!r}")
            chat = body.get("chatId")
            if self.chat_id is not None and chat != self.chat_id:
                problems.append(f"chatId {chat!r} is not {self.chat_id!r}")
            elif not (isinstance(chat, str) and chat.endswith("@newsletter")):
                problems.append(f"chatId {chat!r} is not a channel (…@newsletter)")
            if request.path == "/api/sendText" and not str(body.get("text") or "").strip():
                problems.append("empty text")
            if request.path == "/api/sendImage":
                problems += _image_problems(body.get("file"))
        if problems:
            return Rejection(422, {"statusCode": 422, "message": problems}, problems)
        return None

    def _check_correction(self, request: Recorded) -> Rejection | None:
        """PUT/DELETE of a message: the path parameters and (PUT) EditMessageRequest."""
        method = request.method.lower()
        if self.api_key is not None and request.header("x-api-key") != self.api_key:
            return Rejection(
                401, {"statusCode": 401, "message": "Unauthorized"}, ["missing or wrong X-Api-Key"]
            )
        match = _MESSAGE.match(request.path)
        assert match is not None
        values = {k: unquote(v) for k, v in match.groupdict().items()}
        problems: list[str] = []
        declared = path_parameters(MESSAGE_PATH, method)
        for name, param in declared.items():
            if param.get("required") and not values.get(name):
                problems.append(f"path parameter {name} is missing")
            if param["schema"].get("type") == "string" and not isinstance(values.get(name), str):
                problems.append(f"path parameter {name} is not a string")
        if set(values) != set(declared):
            problems.append(f"path parameters {sorted(values)} differ from {sorted(declared)}")
        if values["session"] != self.session:
            problems.append(f"session {values['session']!r} is not {self.session!r}")
        chat = values["chatId"]
        if self.chat_id is not None and chat != self.chat_id:
            problems.append(f"chatId {chat!r} is not {self.chat_id!r}")
        elif not chat.endswith("@newsletter"):
            problems.append(f"chatId {chat!r} is not a channel (…@newsletter)")
        if method == "put":
            if not (request.header("content-type") or "").startswith("application/json"):
                problems.append("Content-Type is not application/json")
            try:
                request.json = json.loads(request.body)
            except ValueError as exc:
                problems.append(f"body is not JSON: {exc}")
            else:
                problems += schema_errors(MESSAGE_PATH, request.json, "put")
                if isinstance(request.json, dict):
                    extra = set(request.json) - properties(MESSAGE_PATH, "put")
                    if extra:
                        problems.append(f"PUT: fields WAHA does not know: {sorted(extra)}")
                    if not str(request.json.get("text") or "").strip():
                        problems.append("empty text")
        elif request.body:
            problems.append("DELETE with a body")
        if problems:
            return Rejection(422, {"statusCode": 422, "message": problems}, problems)
        return None

    def apply(self, request: Recorded) -> tuple[int, Any]:
        match = _MESSAGE.match(request.path)
        assert match is not None
        ident = unquote(match.group("messageId"))
        message = self.messages.get(ident)
        if message is None or message.deleted:
            return 404, {"statusCode": 404, "message": "Message not found", "error": "Not Found"}
        if request.method == "DELETE":
            message.deleted = True
            return 200, {}
        text = str(request.json.get("text", "")) if isinstance(request.json, dict) else ""
        message.text = text
        message.edits.append(text)
        return 200, {"id": ident, "body": text, "fromMe": True}

    def accept(self, request: Recorded, number: int) -> tuple[str, str, Any]:
        body = request.json if isinstance(request.json, dict) else {}
        chat = str(body.get("chatId", ""))
        serialized = f"true_{chat}_{number:020X}"
        text = str(body.get("text") if "text" in body else body.get("caption", ""))
        ident: Any = serialized
        if self.id_style == "serialized":
            ident = {
                "fromMe": True,
                "remote": chat,
                "id": f"{number:020X}",
                "_serialized": serialized,
            }
        answer = {
            "id": ident,
            "timestamp": int(time.time()),
            "from": chat,
            "fromMe": True,
            "to": chat,
            "participant": "",
            "body": text,
            "hasMedia": request.path == "/api/sendImage",
            "mediaUrl": "",
            "ack": 1,
            "ackName": "SERVER",
        }
        if number:  # 0: only the shape of an answer is asked for
            self.messages[serialized] = Published(
                chat, text, has_media=request.path == "/api/sendImage")
        return text, serialized, answer

    def error_json(self, status: int, description: str, retry_after: float | None) -> Any:
        return {"statusCode": status, "message": description or f"fake error {status}"}


def _image_problems(file: Any) -> list[str]:
    if not isinstance(file, dict):
        return ["file is missing"]
    data, kind = decode_image(file.get("data", ""))
    if data is None:
        return ["file.data is not base64"]
    problems = []
    if kind is None:
        problems.append("file.data is not a JPEG or PNG image")
    elif file.get("mimetype") != kind:
        problems.append(f"file.mimetype {file.get('mimetype')!r} but the data is {kind}")
    if len(data) > 5 * 1024 * 1024:
        problems.append("image over 5 MB")
    return problems
