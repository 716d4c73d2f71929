"""`console`: print the rendered message on standard output (the embedded default sender)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ClassVar

from comunicast.senders.base import WHATSAPP, Limits, Message, Receipt, SenderOptions

if TYPE_CHECKING:
    from comunicast.config import Config


class ConsoleOptions(SenderOptions):
    """The console sender takes no options of its own."""


class ConsoleSender:
    """Writes the WhatsApp-ready text to stdout, framed so it can be copied by hand."""

    name: ClassVar[str] = "console"
    limits: ClassVar[Limits] = WHATSAPP
    Options: ClassVar[type[SenderOptions]] = ConsoleOptions

    def __init__(self, instance: str, options: Any, config: Config) -> None:
        self.instance = instance
        self.options = options

    def send(self, message: Message) -> Receipt:
        """Print the message; the remote id is the draft's revision."""
        out = sys.stdout
        out.write(f"── {message.draft_id} → {self.instance} ──\n")
        out.write(message.text + "\n")
        if message.image is not None:
            out.write(f"[{message.image.name}: {message.image_alt or ''}]\n")
        out.write("\n")
        out.flush()
        return Receipt(remote_id=f"console:{message.revision}")

    def close(self) -> None:
        """Nothing to release."""
