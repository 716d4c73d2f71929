"""The sender contract: declared limits, an options model, typed errors (SPEC §5.1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from comunicast.errors import ConfigError

if TYPE_CHECKING:
    from comunicast.config import Config

Target = Literal["whatsapp", "telegram", "plain"]


@dataclass(frozen=True)
class Limits:
    """What a platform accepts, declared next to the adapter's code."""

    target: Target
    max_text: int = 4096
    max_caption: int = 1024
    images: bool = True
    max_image_bytes: int = 5 * 1024 * 1024
    idempotency: bool = False
    min_interval: float = 0.0


#: What a WhatsApp Channel update accepts (text 4,096 characters, a caption 1,024, one image up
#: to 5 MB). The adapters that produce WhatsApp text start from it, adding their own behaviour
#: (`dataclasses.replace`), so the platform's facts stand in one place.
WHATSAPP = Limits(target="whatsapp", max_text=4096, max_caption=1024, images=True,
                  max_image_bytes=5 * 1024 * 1024)


class SenderOptions(BaseModel):
    """Options every adapter takes; adapters subclass this with their own."""

    model_config = ConfigDict(extra="forbid")

    min_interval: float | None = Field(default=None, ge=0, description="Seconds between two sends")
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for the platform")


@dataclass(frozen=True)
class Message:
    """One publication's payload, rendered for the sender's target."""

    draft_id: str
    sender: str
    revision: str
    kind: str
    title: str
    text: str
    markdown: str
    plain: str
    target: Target
    links: list[str] = field(default_factory=list)
    image: Path | None = None
    image_alt: str | None = None
    publish_at: datetime | None = None
    idempotency_key: str = ""


@dataclass(frozen=True)
class Receipt:
    """What the platform answered: its own message id, as a string."""

    remote_id: str | None = None
    #: Written where a person must still paste it (an outbox with `confirm: true`).
    to_paste: bool = False


class SenderError(Exception):
    """Base of the errors a sender raises; messages must never contain secrets."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotDelivered(SenderError):
    """The platform certainly did not take the message (refused, unreachable)."""

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class MaybeDelivered(SenderError):
    """The request may have reached the platform; never retried automatically."""


class SenderConfigError(ConfigError):
    """The sender's options are wrong or a secret is missing."""


@runtime_checkable
class Sender(Protocol):
    """A sender adapter class: name, limits, options model, and `send`."""

    name: ClassVar[str]
    limits: ClassVar[Limits]
    Options: ClassVar[type[SenderOptions]]

    def __init__(self, instance: str, options: Any, config: Config) -> None: ...

    def send(self, message: Message) -> Receipt:
        """Deliver `message`; raise NotDelivered or MaybeDelivered on failure."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
