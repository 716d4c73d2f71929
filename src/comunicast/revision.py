"""Revisions: versioned hashes of the payload rendered for one sender (SPEC §5).

The hash covers what the sender's audience would see: the rendered text for its target, the
image's bytes and its alternative text. Another title, body, image or target gives another
revision; whitespace in the YAML front matter or a changed `publish_at` does not.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

#: Bump the prefix whenever the canonical payload below changes shape.
REVISION_PREFIX = "v1"


def canonical_payload(
    *, target: str, text: str, image: Path | None, image_alt: str | None
) -> dict[str, Any]:
    """The fields a revision covers, as a JSON-ready dict."""
    return {
        "target": target,
        "text": text,
        "image_sha256": file_sha256(image) if image is not None else None,
        "image_alt": image_alt if image is not None else None,
    }


def revision_of(payload: dict[str, Any]) -> str:
    """`v1:<sha256 hex>` of the canonical JSON of `payload`."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{REVISION_PREFIX}:{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def idempotency_key(draft_id: str, sender: str, revision: str) -> str:
    """The same key on every attempt of one publication revision, and only of it."""
    digest = hashlib.sha256(f"{draft_id}\0{sender}\0{revision}".encode()).hexdigest()
    return f"comunicast-{digest[:32]}"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


#: Bump whenever the fields of `content_payload` change shape (every approval becomes stale).
CONTENT_PREFIX = "v1"


def content_payload(draft: Any, image_sha256: str | None) -> dict[str, Any]:
    """What a follower of any sender sees of `draft` (SPEC §8), as a JSON-ready dict.

    Title, kind, the Markdown body, the kind's fields and the image (its bytes, by hash, and its
    alternative text). Left out on purpose, because they are scheduling or routing, not content:
    `id` (named in the approval itself), `publish_at`, `expires_at`, `senders`, `author`.
    Datetimes are written in UTC, so the same instant written with another offset is the same
    content.
    """
    return {
        "title": draft.title,
        "kind": str(draft.kind),
        "body": draft.body,
        "deadline": _when(draft.deadline),
        "starts_at": _when(draft.starts_at),
        "ends_at": _when(draft.ends_at),
        "where": draft.where,
        "image_sha256": image_sha256,
        "image_alt": draft.image_alt if image_sha256 is not None else None,
    }


def content_revision(draft: Any, image_sha256: str | None) -> str:
    """`v1:<sha256 hex>` of the draft's content; `image_sha256` of the very bytes to be sent."""
    canonical = json.dumps(
        content_payload(draft, image_sha256), sort_keys=True, separators=(",", ":"),
        ensure_ascii=False,
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{CONTENT_PREFIX}:{digest}"


def _when(value: Any) -> str | None:
    from datetime import UTC, datetime

    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    return str(value.isoformat())
