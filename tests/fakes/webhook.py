"""A webhook receiver: checks the SPEC §5.1 body, the HMAC signature, and honours Idempotency-Key.

Corrections (SPEC §10) are POSTs with `"action": "edit"` (the publication's fields, and
`"replaces"`) or `"action": "withdraw"`; they are kept in `actions`, never as deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from .server import Delivery, FakeServer, Recorded, Rejection, decode_image

#: The body's fields, exactly (SPEC §5.1).
BODY_FIELDS = {
    "version",
    "draft_id",
    "sender",
    "revision",
    "kind",
    "title",
    "text",
    "markdown",
    "links",
    "image",
    "publish_at",
    "sent_at",
}


#: The body of an edit: a publication's fields, what it replaces, and the action.
EDIT_FIELDS = BODY_FIELDS | {"action", "replaces"}
#: The body of a withdrawal.
WITHDRAW_FIELDS = {"version", "action", "draft_id", "sender", "revision", "replaces", "reason",
                   "sent_at"}


class FakeWebhook(FakeServer):
    """Plays a receiver at any path. With `honour_idempotency` (default) a repeated
    Idempotency-Key is answered again and not published twice; `replays` counts those."""

    def __init__(
        self,
        *,
        secret: str = "webhook-test-secret-0123456789",
        honour_idempotency: bool = True,
        required_headers: dict[str, str] | None = None,
        delay: float = 0.0,
        port: int = 0,
    ) -> None:
        super().__init__(delay=delay, port=port)
        self.secret = secret
        self.honour_idempotency = honour_idempotency
        self.required_headers = {k.lower(): v for k, v in (required_headers or {}).items()}
        self.replays = 0
        #: Corrections carried out, by Idempotency-Key (a repeated key is a replay).
        self.actions: dict[str, Any] = {}

    def is_correction(self, request: Recorded) -> bool:
        try:
            body = json.loads(request.body)
        except ValueError:
            return False
        return isinstance(body, dict) and "action" in body

    def apply(self, request: Recorded) -> tuple[int, Any]:
        key = request.header("idempotency-key") or ""
        if key in self.actions and self.honour_idempotency:
            self.replays += 1
        else:
            self.actions[key] = request.json
        return 200, {"status": "accepted"}

    def check(self, request: Recorded) -> Rejection | None:
        if request.method != "POST":
            return Rejection(405, {"error": "method not allowed"}, [f"{request.method} not POST"])
        for name, value in self.required_headers.items():
            if request.header(name) != value:
                return Rejection(401, {"error": "unauthorized"}, [f"missing or wrong {name}"])
        problems: list[str] = []
        expected = (
            "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(request.header("x-comunicast-signature") or "", expected):
            problems.append("X-Comunicast-Signature does not match the body")
        if not request.header("idempotency-key"):
            problems.append("no Idempotency-Key")
        if not (request.header("content-type") or "").startswith("application/json"):
            problems.append("Content-Type is not application/json")
        try:
            body = json.loads(request.body)
        except ValueError as exc:
            problems.append(f"body is not JSON: {exc}")
            body = None
        request.json = body
        if isinstance(body, dict) and "action" in body:
            expected_fields = EDIT_FIELDS if body["action"] == "edit" else WITHDRAW_FIELDS
            if body["action"] not in ("edit", "withdraw"):
                problems.append(f"unknown action {body['action']!r}")
            elif set(body) != expected_fields:
                problems.append(
                    f"{body['action']} fields differ: missing "
                    f"{sorted(expected_fields - set(body))}, extra "
                    f"{sorted(set(body) - expected_fields)}"
                )
            if not body.get("replaces"):
                problems.append("no replaces")
            if body["action"] == "withdraw" and not str(body.get("reason") or "").strip():
                problems.append("withdrawal without a reason")
            if body["action"] == "edit":
                problems += _image_problems(body.get("image"))
        elif isinstance(body, dict):
            if set(body) != BODY_FIELDS:
                problems.append(
                    f"fields differ from SPEC §5.1: missing "
                    f"{sorted(BODY_FIELDS - set(body))}, extra {sorted(set(body) - BODY_FIELDS)}"
                )
            if body.get("version") != 1:
                problems.append("version is not 1")
            if not isinstance(body.get("links"), list):
                problems.append("links is not a list")
            problems += _image_problems(body.get("image"))
        elif body is not None:
            problems.append("body is not a JSON object")
        if problems:
            return Rejection(400, {"error": "; ".join(problems)}, problems)
        return None

    def replay(self, request: Recorded) -> Delivery | None:
        if not self.honour_idempotency:
            return None
        key = request.header("idempotency-key")
        for delivery in self.deliveries:
            if delivery.key == key:
                self.replays += 1
                return delivery
        return None

    def accept(self, request: Recorded, number: int) -> tuple[str, str, Any]:
        key = request.header("idempotency-key") or f"no-key-{number}"
        remote_id = f"wh-{number}"
        return key, remote_id, {"id": remote_id, "status": "accepted"}

    def accept_again(self, earlier: Delivery) -> Any:
        return {"id": earlier.remote_id, "status": "accepted"}

    def error_json(self, status: int, description: str, retry_after: float | None) -> Any:
        return {"error": description or f"fake error {status}"}


def _image_problems(image: Any) -> list[str]:
    if image is None:
        return []
    if not isinstance(image, dict) or set(image) != {"filename", "mimetype", "data"}:
        return ["image is not {filename, mimetype, data}"]
    data, kind = decode_image(image["data"])
    if data is None:
        return ["image.data is not base64"]
    if kind != image["mimetype"]:
        return [f"image.mimetype {image['mimetype']!r} but the data is {kind}"]
    return []
