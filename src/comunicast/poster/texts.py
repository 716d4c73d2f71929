"""What a poster says (and the site's subscribe page): the organization's words from `poster:`,
or the defaults, translated. Kept apart from the layout so the site reads them without it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from comunicast.i18n import N_, _

if TYPE_CHECKING:
    from comunicast.config import Config

# The poster's default texts, translated where the poster is made (Italian: "Segui il
# {organization} su WhatsApp", "Inquadra il QR code con la fotocamera", …; see the catalog).
DEFAULT_TITLE = N_("Follow {organization} on WhatsApp")
DEFAULT_STEPS = (
    N_("Scan the QR code with your phone's camera"),
    N_("Tap «Follow»"),
    N_("Turn on notifications \U0001f514"),
)
DEFAULT_PRIVACY = N_(
    "The Comune does not see the names, photos or phone numbers of the people who follow the "
    "channel. Updates stay visible for 30 days."
)


@dataclass(frozen=True)
class PosterTexts:
    """What a poster says; already in the organization's words (config or Italian defaults)."""

    organization: str
    title: str
    steps: tuple[str, str, str]
    url: str
    privacy: str


def poster_texts(config: Config, url: str) -> PosterTexts:
    """The poster's texts from `poster:` in config, with Italian defaults."""
    org = config.organization.name
    poster = config.poster
    title = (poster.title or _(DEFAULT_TITLE)).replace("{organization}", org)
    steps = tuple(poster.steps) if poster.steps else tuple(_(s) for s in DEFAULT_STEPS)
    return PosterTexts(
        organization=org,
        title=title,
        steps=(steps[0], steps[1], steps[2]),
        url=url,
        privacy=poster.privacy or _(DEFAULT_PRIVACY),
    )
