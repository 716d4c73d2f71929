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
