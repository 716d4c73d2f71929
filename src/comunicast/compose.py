"""What a draft becomes for a sender: its senders, their targets and limits, and the rendered text.

`preview`, `check` and `publish` all go through here, so the previewed text is the sent text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.drafts import Draft
    from comunicast.senders.base import Limits, Target


def senders_of(draft: Draft, config: Config) -> list[str]:
    """The sender instances a draft goes to: its own `senders`, else the configured default."""
    return list(draft.senders) if draft.senders else config.sender_names


def rendered_text(draft: Draft, config: Config, target: Target) -> str:
    """The exact text a sender of `target` sends for `draft`."""
    from comunicast.render import render

    return render(draft.body, title=draft.title if config.render.title else None, target=target)


@dataclass(frozen=True)
class TargetText:
    """A draft rendered for one target, measured as the platform measures it."""

    target: Target
    text: str
    length: int
    limit: int


def limit_for(limits: Limits, has_image: bool) -> int:
    """The text limit that applies: the caption limit when an image is attached."""
    return limits.max_caption if has_image and limits.images else limits.max_text


def target_texts(
    draft: Draft, config: Config, targets: list[Target] | None = None
) -> list[TargetText]:
    """The draft rendered for `targets` (default: the targets of its senders, each once)."""
    from comunicast.render import text_length
    from comunicast.senders.registry import limits_for

    limits: dict[str, Limits] = {}
    if targets is None:
        for sender in senders_of(draft, config):
            lim = limits_for(config, sender)
            limits.setdefault(lim.target, lim)
    else:
        for target in targets:
            limits[target] = _platform_limits(target)
    out = []
    for lim in limits.values():
        text = rendered_text(draft, config, lim.target)
        out.append(
            TargetText(
                target=lim.target,
                text=text,
                length=text_length(text, lim.target),
                limit=limit_for(lim, draft.image is not None),
            )
        )
    return out


def _platform_limits(target: Target) -> Limits:
    """The platform's own limits, for previews not tied to a configured sender."""
    from comunicast.senders.base import Limits

    if target == "telegram":
        return Limits(
            target="telegram", max_text=4096, max_caption=1024, max_image_bytes=10 * 1024 * 1024
        )
    return Limits(target=target)
