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
    #: Corrections (SPEC §10): can the platform change a published message's text in place,
    #: delete it, and for how long after sending may it be changed (seconds; None: no limit
    #: known). Adapters that declare nothing (plugins written before §10) cannot do either.
    can_edit: bool = False
    can_withdraw: bool = False
    edit_window: float | None = None


#: Seconds in a day, for `edit_window`.
DAY = 86_400.0

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


@dataclass(frozen=True)
class Edit:
    """A correction of a published message: set its text to `message.text` (SPEC §10).

    `message` is the draft's current payload for the sender (its `revision` is the one being
    put in place; its image is the one first sent, unchanged). `remote_id` is the platform's id
    of the published message; `replaces_revision` the revision it shows now. Setting the same
    text twice is harmless, so an edit in doubt may be retried.
    """

    message: Message
    remote_id: str
    replaces_revision: str
    idempotency_key: str


@dataclass(frozen=True)
class Withdrawal:
    """The deletion of a published message (SPEC §10); deleting it twice is harmless."""

    draft_id: str
    sender: str
    #: The revision the message shows (the last edit's, or the one first sent).
    revision: str
    remote_id: str
    reason: str
    idempotency_key: str
    #: The text the message shows, when known (so a person deleting it by hand can find it).
    text: str | None = None
    #: Whether the message carries an image (Telegram deletes a photo post the same way).
    has_image: bool = False


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


@runtime_checkable
class Correcting(Protocol):
    """What an adapter that declares `can_edit` / `can_withdraw` adds to `Sender` (SPEC §10).

    Both raise the same typed errors as `send`: NotDelivered (the message is certainly as it
    was), MaybeDelivered (the change may have happened), SenderConfigError.
    """

    def edit(self, edit: Edit) -> Receipt:
        """Change the published message's text in place."""
        ...

    def withdraw(self, withdrawal: Withdrawal) -> Receipt:
        """Delete the published message; a platform's "not found" counts as done."""
        ...
