"""Find sender adapters through the entry-point group `comunicast.senders` (built-ins included)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.senders.base import Limits, Sender

GROUP = "comunicast.senders"


@dataclass(frozen=True)
class AdapterEntry:
    """An installed adapter: its class, or the error that stopped it from loading."""

    name: str
    value: str
    distribution: str | None
    adapter: type[Sender] | None
    error: str | None


@cache
def installed_adapters() -> dict[str, AdapterEntry]:
    """Every adapter registered under the entry-point group; broken ones carry their error."""
    from importlib.metadata import entry_points

    found: dict[str, AdapterEntry] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist is not None else None
        try:
            cls = ep.load()
            _validate(ep.name, cls)
            found[ep.name] = AdapterEntry(ep.name, ep.value, dist, cls, None)
        except Exception as exc:  # a broken plugin is reported by name, never crashes us
            found.setdefault(
                ep.name,
                AdapterEntry(ep.name, ep.value, dist, None, f"{type(exc).__name__}: {exc}"),
            )
    return found


def _validate(name: str, cls: Any) -> None:
    from comunicast.senders.base import Limits, SenderOptions

    missing = [a for a in ("limits", "Options", "send") if not hasattr(cls, a)]
    if missing:
        raise TypeError(f"adapter {name!r} lacks {', '.join(missing)}")
    if not isinstance(cls.limits, Limits):
        raise TypeError(f"adapter {name!r}: limits must be a comunicast.senders.base.Limits")
    if not (isinstance(cls.Options, type) and issubclass(cls.Options, SenderOptions)):
        raise TypeError(f"adapter {name!r}: Options must subclass SenderOptions")


def adapter_class(config: Config, sender: str) -> type[Sender]:
    """The adapter class of the configured sender instance `sender`."""
    if sender not in config.senders:
        raise config.error(
            _("unknown sender '{name}' (configured: {known})").format(
                name=sender, known=", ".join(config.senders) or "-"
            ),
            "senders",
            hint=_("add it under senders: in comunicast.yaml, or fix the name"),
        )
    adapter = config.senders[sender].adapter
    entry = installed_adapters().get(adapter)
    if entry is None:
        raise config.error(
            _("sender '{name}': unknown adapter '{adapter}' (installed: {known})").format(
                name=sender, adapter=adapter, known=", ".join(sorted(installed_adapters()))
            ),
            "senders",
            sender,
            "adapter",
        )
    if entry.adapter is None:
        raise config.error(
            _("sender '{name}': adapter '{adapter}' cannot be loaded: {error}").format(
                name=sender, adapter=adapter, error=entry.error
            ),
            "senders",
            sender,
            "adapter",
        )
    return entry.adapter


def limits_for(config: Config, sender: str) -> Limits:
    """The limits (render target included) of the configured sender instance `sender`."""
    return adapter_class(config, sender).limits
