"""Find sender adapters through the entry-point group `comunicast.senders` (built-ins included)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.errors import Problem
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
        if ep.name in found and found[ep.name].distribution == OWN_DISTRIBUTION:
            continue  # a plugin cannot take over a built-in adapter's name
        found[ep.name] = _load(ep)
    return found


OWN_DISTRIBUTION = "comunicast"


def _load(ep: Any) -> AdapterEntry:
    dist = ep.dist.name if ep.dist is not None else None
    try:
        cls = ep.load()
        _validate(ep.name, cls)
        return AdapterEntry(ep.name, ep.value, dist, cls, None)
    except Exception as exc:  # noqa: BLE001 - a broken plugin is reported by name, never crashes us
        return AdapterEntry(ep.name, ep.value, dist, None, f"{type(exc).__name__}: {exc}")


@cache
def _builtin_entry_points() -> dict[str, Any]:
    """comunicast's own entry points: read from its one distribution, not by scanning them all."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        eps = distribution(OWN_DISTRIBUTION).entry_points.select(group=GROUP)
    except PackageNotFoundError:  # running from a source tree without metadata
        return {}
    return {ep.name: ep for ep in eps}


@cache
def find_adapter(name: str) -> AdapterEntry | None:
    """The adapter called `name`: a built-in without scanning every package, else a plugin."""
    builtin = _builtin_entry_points().get(name)
    if builtin is not None:
        return _load(builtin)
    return installed_adapters().get(name)


def _validate(name: str, cls: Any) -> None:
    from comunicast.senders.base import Limits, SenderOptions

    missing = [a for a in ("limits", "Options", "send") if not hasattr(cls, a)]
    if missing:
        raise TypeError(
            _("adapter {name!r} lacks {missing}").format(name=name, missing=", ".join(missing))
        )
    if not isinstance(cls.limits, Limits):
        raise TypeError(
            _("adapter {name!r}: limits must be a comunicast.senders.base.Limits").format(name=name)
        )
    if not (isinstance(cls.Options, type) and issubclass(cls.Options, SenderOptions)):
        raise TypeError(_("adapter {name!r}: Options must subclass SenderOptions").format(name=name))


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
    entry = find_adapter(adapter)
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


def sender_options(
    config: Config,
    sender: str,
    cls: type[Sender] | None = None,
    raw: dict[str, Any] | None = None,
) -> Any:
    """The validated options of sender instance `sender`, `${VAR}` resolved; located ConfigErrors.

    `raw` defaults to the instance's options in comunicast.yaml.
    """
    from comunicast.errors import ConfigError
    from comunicast.senders.base import SenderConfigError

    adapter = cls or adapter_class(config, sender)
    if raw is None:
        raw = config.senders[sender].options
    resolved: dict[str, Any] = {}
    failure: ConfigError | None = None
    for key, value in raw.items():
        try:
            resolved[key] = _resolve_tree(value, where=f"senders.{sender}.{key}")
        except ConfigError as exc:
            failure = config.error(exc.message, "senders", sender, key, hint=exc.hint)
            break
    if failure is not None:
        raise failure
    options, problems = _validate_options(config, sender, adapter, resolved)
    if problems:
        # Built outside any `except`: the pydantic error quotes input values, which may be secrets.
        first = problems[0]
        raise SenderConfigError(
            "\n".join(
                (f"{config.path}:{p.line}:{p.column}: " if p.line else f"{config.path}: ")
                + p.message
                for p in problems
            ),
            hint=_("see the options of adapter '{adapter}' in the README").format(
                adapter=adapter.name
            ),
            line=first.line,
            column=first.column,
        )
    return options


def create_sender(config: Config, sender: str) -> Sender:
    """A ready sender for the configured instance `sender` (options validated, secrets resolved)."""
    cls = adapter_class(config, sender)
    return cls(sender, sender_options(config, sender, cls), config)


def coerce_options(cls: type[Sender], options: Any, config: Config, sender: str) -> Any:
    """`options` as an instance of `cls.Options`: kept when it is one, else resolved and validated."""
    if isinstance(options, cls.Options):
        return options
    return sender_options(config, sender, cls, dict(options or {}))


def _resolve_tree(value: Any, *, where: str) -> Any:
    from comunicast.config import resolve_env

    if isinstance(value, dict):
        return {k: _resolve_tree(v, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_tree(v, where=where) for v in value]
    return resolve_env(value, where=where)


def _validate_options(
    config: Config, sender: str, cls: type[Sender], resolved: dict[str, Any]
) -> tuple[Any, list[Problem]]:
    from pydantic import ValidationError

    from comunicast.validation import problems_from_validation

    try:
        return cls.Options.model_validate(resolved), []
    except ValidationError as exc:
        return None, problems_from_validation(
            exc, config._positions, cls.Options, prefix=("senders", sender)
        )


@dataclass(frozen=True)
class SenderInstance:
    """A configured sender, its options validated and `${VAR}` resolved, ready to build."""

    name: str
    adapter_name: str
    adapter: type[Sender]
    options: Any
    #: Resolved secret values (SecretStr fields and `${VAR}` values), masked in any output.
    secrets: tuple[str, ...]

    @property
    def limits(self) -> Limits:
        """The adapter's declared limits."""
        return self.adapter.limits

    @property
    def min_interval(self) -> float:
        """Seconds between two sends of one run: the option, else the adapter's default."""
        value = getattr(self.options, "min_interval", None)
        return float(self.limits.min_interval if value is None else value)

    def build(self, config: Config) -> Sender:
        """A new adapter object for this instance."""
        return self.adapter(self.name, self.options, config)


def sender_instance(config: Config, sender: str) -> SenderInstance:
    """The configured sender `sender`: adapter, validated options, and its secret values.

    `${VAR}` references are resolved here, so a missing secret is a ConfigError naming the
    variable, raised only for senders actually used (SPEC §2.1).
    """
    cls = adapter_class(config, sender)
    options = sender_options(config, sender, cls)
    secrets = set(_secret_values(options))
    # Values read from the environment are secrets by convention ("never store secrets here"),
    # except plain URLs, which errors need to name the endpoint.
    secrets.update(
        v for v in _env_values(config.senders[sender].options, sender)
        if not v.startswith(("http://", "https://"))
    )
    return SenderInstance(
        name=sender,
        adapter_name=config.senders[sender].adapter,
        adapter=cls,
        options=options,
        secrets=tuple(sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)),
    )


def _env_values(value: Any, where: str) -> list[str]:
    """The values `${VAR}` references inside raw options resolve to."""
    from comunicast.config import resolve_env

    if isinstance(value, dict):
        return [v for k, item in value.items() for v in _env_values(item, f"{where}.{k}")]
    if isinstance(value, list):
        return [v for item in value for v in _env_values(item, where)]
    if isinstance(value, str) and "${" in value:
        resolved = resolve_env(value, where=where)
        return [resolved] if resolved != value else []
    return []


def _secret_values(value: Any) -> list[str]:
    """Every SecretStr/SecretBytes value inside a validated options model."""
    from pydantic import BaseModel, SecretBytes, SecretStr

    found: list[str] = []
    if isinstance(value, SecretStr):
        found.append(value.get_secret_value())
    elif isinstance(value, SecretBytes):
        found.append(value.get_secret_value().decode("utf-8", "replace"))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            found.extend(_secret_values(getattr(value, name)))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(_secret_values(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(_secret_values(item))
    return found


def configured_secrets(config: Config) -> list[str]:
    """Every secret value the configured senders resolve to, longest first; never raises.

    For the places that print errors no sender has scrubbed (an adapter's own bug, a broken
    plugin): a sender whose options do not validate still has its `${VAR}` values masked.
    """
    import os
    import re

    found: set[str] = set()
    for name, setting in config.senders.items():
        try:
            found.update(sender_instance(config, name).secrets)
        except Exception:  # noqa: BLE001, S110 - best effort: the env values below still count
            pass
        for var in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", repr(setting.options)):
            value = os.environ.get(var)
            if value:
                found.add(value)
    found.update(_state_secrets(config))
    return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)


def _state_secrets(config: Config) -> set[str]:
    """The ledger database's password (state.url or COMUNICAST_STATE_URL), however written."""
    import os
    import re
    from urllib.parse import unquote, urlsplit

    found: set[str] = set()
    for url in (config.state.url, os.environ.get("COMUNICAST_STATE_URL")):
        if not url:
            continue
        for var in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", url):
            if os.environ.get(var):
                found.add(os.environ[var])
        try:
            password = urlsplit(url).password
        except ValueError:
            continue
        if password and "${" not in password:
            found.update({password, unquote(password)})
    return found


def mask_configured(text: str, config: Config | None) -> str:
    """`text` with the configured senders' secrets and anything shaped like a bot token masked."""
    from comunicast.senders.http import _BOT_TOKEN, MASK

    if config is not None:
        text = mask_secrets(text, configured_secrets(config))
    return _BOT_TOKEN.sub(MASK, text)


def mask_secrets(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """`text` with every secret value replaced by `***` (longest first)."""
    from urllib.parse import quote

    forms = {form for s in secrets if s for form in (s, quote(s, safe=""), quote(s, safe=":/"))}
    for form in sorted(forms, key=len, reverse=True):  # a secret containing another goes whole
        text = text.replace(form, "***")
    return text
