"""`comunicast.yaml`: models, discovery, `${VAR}` interpolation (SPEC §2.1)."""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from comunicast.errors import ConfigError
from comunicast.i18n import _
from comunicast.yamlpos import Place, Positions, YamlProblem, load

CONFIG_NAME = "comunicast.yaml"
MAX_CONFIG_BYTES = 1 << 20
SEVERITIES = ("off", "info", "warning", "error")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _check_color(value: str) -> str:
    if not _HEX_COLOR.match(value):
        raise ValueError(f'{value!r} is not a colour; write it as #RRGGBB, e.g. "#003366"')
    return value


class Organization(_Strict):
    """Who publishes."""

    name: str = Field(min_length=1, description="Name of the organization, e.g. Comune di Cremona")
    website: str | None = Field(default=None, description="Official website (https://…)")
    logo: str | None = Field(default=None, description="PNG/JPEG logo, relative to comunicast.yaml")
    color: str = Field(default="#003366", description="Brand colour for posters (#RRGGBB)")

    _color = field_validator("color")(classmethod(lambda cls, v: _check_color(v)))


class Channel(_Strict):
    """The WhatsApp Channel citizens follow."""

    name: str | None = Field(default=None, description="Channel name; default: organization name")
    invite_url: str = Field(
        description="https://whatsapp.com/channel/… link encoded in the QR code"
    )


class Links(_Strict):
    """Link rules."""

    allowed_domains: list[str] = Field(
        default_factory=list, description="Domains links may point to; subdomains included"
    )


class Privacy(_Strict):
    """Privacy rules."""

    allow: list[str] = Field(
        default_factory=list,
        description="The organization's own phone numbers, IBANs and e-mail addresses",
    )


class Render(_Strict):
    """Rendering options."""

    title: bool = Field(default=True, description="Title as the bold first line of every message")


class RuleSetting(BaseModel):
    """Per-rule override: severity plus rule-specific options (validated by the rules engine)."""

    model_config = ConfigDict(extra="allow")

    severity: Literal["off", "info", "warning", "error"] | None = None

    @field_validator("severity", mode="before")
    @classmethod
    def _off(cls, value: Any) -> Any:
        # `off` unquoted is YAML's false.
        if value is False:
            return "off"
        return value

    @property
    def options(self) -> dict[str, Any]:
        """Options other than severity."""
        return dict(self.model_extra or {})


class SenderSetting(BaseModel):
    """A named sender instance; options besides `adapter` are validated by the adapter."""

    model_config = ConfigDict(extra="allow")

    adapter: str = Field(description="Adapter name: console, outbox, webhook, waha, telegram, …")

    @property
    def options(self) -> dict[str, Any]:
        """Adapter options (raw; `${VAR}` not yet resolved)."""
        return dict(self.model_extra or {})


class Poster(_Strict):
    """Texts and look of the QR poster; Italian defaults."""

    title: str | None = Field(
        default=None, description='Default: "Segui il <organization> su WhatsApp"'
    )
    steps: list[str] | None = Field(default=None, min_length=3, max_length=3)
    privacy: str | None = None
    qr_color: str = Field(default="#000000", description="Colour of the code's dark modules")
    font: str | None = Field(default=None, description="Regular TTF font; default: Titillium Web")
    font_bold: str | None = Field(
        default=None, description="Bold TTF font; default: Titillium Web Bold"
    )

    _color = field_validator("qr_color")(classmethod(lambda cls, v: _check_color(v)))


class Publish(_Strict):
    """How `publish` retries transient failures within one run."""

    retry_budget: float = Field(
        default=60.0, ge=0, description="Seconds one run may spend waiting to retry failed sends"
    )
    max_attempts: int = Field(default=5, ge=1, description="Attempts per publication in one run")


class Site(_Strict):
    """The archive site (`comunicast site`, SPEC §9)."""

    base_url: str | None = Field(
        default=None,
        description="Address the site is published at (https://…/); required by `comunicast site`",
    )
    title: str | None = Field(default=None, description="Site title; default: organization name")

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("base_url must be an address like https://www.comune.example.it/notizie/")
        return value


class Config(_Strict):
    """The whole `comunicast.yaml`."""

    organization: Organization
    channel: Channel
    timezone: str = "Europe/Rome"
    language: Literal["it", "en"] = "it"
    links: Links = Field(default_factory=Links)
    privacy: Privacy = Field(default_factory=Privacy)
    render: Render = Field(default_factory=Render)
    rules: dict[str, RuleSetting] = Field(default_factory=dict)
    senders: dict[str, SenderSetting] = Field(
        default_factory=lambda: {"console": SenderSetting(adapter="console")}
    )
    default_senders: list[str] | None = Field(
        default=None, description="Senders used when a draft names none; default: all senders"
    )
    poster: Poster = Field(default_factory=Poster)
    publish: Publish = Field(default_factory=Publish)
    site: Site = Field(default_factory=Site)

    _path: Path | None = PrivateAttr(default=None)
    _positions: Positions = PrivateAttr(default_factory=Positions)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use a name like Europe/Rome") from None
        return value

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_shorthand(cls, value: Any) -> Any:
        # `rule.id: off` / `rule.id: warning` as a shorthand for `{severity: …}`.
        if isinstance(value, dict):
            return {
                k: ({"severity": v} if not isinstance(v, dict) else v) for k, v in value.items()
            }
        return value

    # -- places ------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The comunicast.yaml file (a virtual one in the project folder when built in code)."""
        return self._path or Path.cwd() / CONFIG_NAME

    @property
    def root(self) -> Path:
        """The project folder: where comunicast.yaml lives."""
        return self.path.parent

    @property
    def state_dir(self) -> Path:
        """`.comunicast/` beside comunicast.yaml, or COMUNICAST_STATE_DIR."""
        override = os.environ.get("COMUNICAST_STATE_DIR")
        return Path(override) if override else self.root / ".comunicast"

    @property
    def ledger_path(self) -> Path:
        """The SQLite ledger."""
        return self.state_dir / "ledger.sqlite3"

    @property
    def messages_dir(self) -> Path:
        """The drafts folder."""
        return self.root / "messages"

    @cached_property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def channel_name(self) -> str:
        """The channel's name, defaulting to the organization's."""
        return self.channel.name or self.organization.name

    @property
    def sender_names(self) -> list[str]:
        """Senders used when a draft names none."""
        if self.default_senders is not None:
            return list(self.default_senders)
        return list(self.senders)

    def place(self, *keys: Any) -> Place | None:
        """Where the key at `keys` is written in comunicast.yaml (or its nearest parent)."""
        return self._positions.key(keys)

    def error(self, message: str, *keys: Any, hint: str | None = None) -> ConfigError:
        """A ConfigError placed at the key `keys` of comunicast.yaml."""
        place = self.place(*keys) if keys else None
        return ConfigError(
            message,
            hint=hint,
            path=self.path,
            line=place.line if place else None,
            column=place.column if place else None,
        )

    def resolve_path(self, value: str | Path) -> Path:
        """A path written in comunicast.yaml, relative to its folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.root / path


def resolve_env(value: Any, *, where: str, environ: dict[str, str] | None = None) -> Any:
    """Replace `${VAR}` in a string from the environment; a missing variable is a ConfigError."""
    if not isinstance(value, str):
        return value
    env = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(
                _("environment variable {name} is not set (needed by {where})").format(
                    name=name, where=where
                ),
                hint=_("export {name}=… before running comunicast").format(name=name),
            )
        return env[name]

    return _ENV_REF.sub(replace, value)


def find_config(start: Path | None = None) -> Path | None:
    """Walk up from `start` (default: the current folder) to the first comunicast.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def config_path(explicit: str | Path | None = None) -> Path:
    """The config file to use: --config, then COMUNICAST_CONFIG, then discovery."""
    chosen = explicit or os.environ.get("COMUNICAST_CONFIG")
    if chosen:
        path = Path(chosen).expanduser()
        if path.is_dir():
            path = path / CONFIG_NAME
        if not path.is_file():
            raise ConfigError(
                _("configuration file {path} does not exist").format(path=path),
                hint=_("check --config / COMUNICAST_CONFIG, or run `comunicast init`"),
            )
        return path
    found = find_config()
    if found is None:
        raise ConfigError(
            _("no {name} in {cwd} or any parent folder").format(name=CONFIG_NAME, cwd=Path.cwd()),
            hint=_("run `comunicast init` to create one, or pass --config PATH"),
        )
    return found


def load_config(path: str | Path | None = None) -> Config:
    """Find, read and validate comunicast.yaml; every problem is a located ConfigError."""
    from comunicast.validation import problems_from_validation

    file = config_path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            _("cannot read {path}: {reason}").format(path=file, reason=exc.strerror)
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(_("{path} is larger than 1 MiB").format(path=file), path=file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            _("not UTF-8 text; save the file as UTF-8"), path=file, line=line
        ) from None
    try:
        data, positions = load(text)
    except YamlProblem as exc:
        raise ConfigError(exc.message, path=file, line=exc.line, column=exc.column) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            _("the file must be a map of keys (organization:, channel:, …)"), path=file, line=1
        )
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, positions, Config)
        first = problems[0]
        error = ConfigError(
            "\n".join(
                (f"{file}:{p.line}:{p.column}: " if p.line else f"{file}: ") + p.message
                for p in problems
            ),
            hint=_("see `comunicast schema config` for every key and its type"),
        )
        error.line, error.column = first.line, first.column
        raise error from None
    config._path = file.resolve()
    config._positions = positions
    missing = [n for n in (config.default_senders or []) if n not in config.senders]
    if missing:
        raise config.error(
            _("default_senders names unknown sender '{name}' (configured: {known})").format(
                name=missing[0], known=", ".join(config.senders) or "-"
            ),
            "default_senders",
        )
    return config
