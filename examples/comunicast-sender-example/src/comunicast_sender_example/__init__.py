"""`jsonl`: append each publication as one JSON line to a file (a comunicast sender plugin).

Registered in pyproject.toml under the entry-point group `comunicast.senders`.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from comunicast.senders.base import (
    Limits,
    Message,
    NotDelivered,
    Receipt,
    SenderConfigError,
    SenderOptions,
)

__version__ = "0.1.0"


class JsonLinesOptions(SenderOptions):
    """Options under `senders.<name>:` in comunicast.yaml (unknown keys are errors)."""

    path: str = Field(description="The .jsonl file, relative to comunicast.yaml")
    ensure_ascii: bool = Field(default=False, description="Escape non-ASCII characters")


class JsonLinesSender:
    """One line per publication; a publication already in the file is not appended twice."""

    name: ClassVar[str] = "jsonl"
    limits: ClassVar[Limits] = Limits(
        target="plain",  # which rendering `message.text` carries: whatsapp | telegram | plain
        max_text=10_000,
        max_caption=10_000,
        images=False,  # the draft's image is not sent; `check` warns about nothing here
        idempotency=True,  # we honour `message.idempotency_key`, so retries are safe
        min_interval=0.0,
    )
    Options: ClassVar[type[SenderOptions]] = JsonLinesOptions

    def __init__(self, instance: str, options: Any, config: Any) -> None:
        # comunicast passes the validated Options model; `${VAR}` is already resolved.
        if not isinstance(options, JsonLinesOptions):
            options = JsonLinesOptions.model_validate(options)
        self.instance = instance
        self.options = options
        self.file = Path(config.resolve_path(options.path))
        if self.file.suffix != ".jsonl":
            raise SenderConfigError(
                f"sender {instance}: path must end in .jsonl, not {self.file.name}"
            )

    def send(self, message: Message) -> Receipt:
        """Append the publication unless its idempotency key is already in the file."""
        key = message.idempotency_key
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            if self._already_there(key):
                return Receipt(remote_id=key)
            line = json.dumps(
                {
                    "key": key,
                    "draft_id": message.draft_id,
                    "revision": message.revision,
                    "kind": message.kind,
                    "title": message.title,
                    "text": message.text,
                    "links": message.links,
                    "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
                },
                ensure_ascii=self.options.ensure_ascii,
            )
            # One write() of a whole line in append mode: readers never see half a line.
            with self.file.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            # Typed errors, not booleans: the pipeline knows this one did not deliver.
            raise NotDelivered(
                f"jsonl {self.instance}: cannot write {self.file}: {exc.strerror}",
                retryable=False,
            ) from None
        return Receipt(remote_id=key)

    def _already_there(self, key: str) -> bool:
        if not self.file.exists():
            return False
        with self.file.open(encoding="utf-8") as handle:
            return any(json.loads(line).get("key") == key for line in handle if line.strip())

    def close(self) -> None:
        """Nothing to release."""
