"""`console`: print the rendered message on standard output (the embedded default sender)."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from comunicast.i18n import _
from comunicast.senders.base import (
    WHATSAPP,
    Edit,
    Limits,
    Message,
    Receipt,
    SenderOptions,
    Withdrawal,
)

if TYPE_CHECKING:
    from comunicast.config import Config


class ConsoleOptions(SenderOptions):
    """The console sender takes no options of its own."""


class ConsoleSender:
    """Writes the WhatsApp-ready text to stdout, framed so it can be copied by hand."""

    name: ClassVar[str] = "console"
    limits: ClassVar[Limits] = replace(WHATSAPP, can_edit=True, can_withdraw=True)
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

    def edit(self, edit: Edit) -> Receipt:
        """Print the correction: the new text that replaces the published one."""
        message = edit.message
        sys.stdout.write(
            f"── {message.draft_id} → {self.instance} · " + _("correction") + " ──\n"
            + message.text + "\n\n"
        )
        sys.stdout.flush()
        return Receipt(remote_id=edit.remote_id)

    def withdraw(self, withdrawal: Withdrawal) -> Receipt:
        """Print the withdrawal and its reason."""
        sys.stdout.write(
            f"── {withdrawal.draft_id} → {self.instance} · " + _("withdrawal") + " ──\n"
            + _("reason: {reason}").format(reason=withdrawal.reason) + "\n\n"
        )
        sys.stdout.flush()
        return Receipt(remote_id=withdrawal.remote_id)

    def close(self) -> None:
        """Nothing to release."""
