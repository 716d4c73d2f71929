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
from comunicast.state import LedgerLocation
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
        raise ValueError(
            _('{value!r} is not a colour; write it as #RRGGBB, e.g. "#003366"').format(value=value)
        )
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
    """How `publish` retries transient failures within one run, and how often cron is reminded."""

    retry_budget: float = Field(
        default=60.0, ge=0, description="Seconds one run may spend waiting to retry failed sends"
    )
    max_attempts: int = Field(default=5, ge=1, description="Attempts per publication in one run")
    reminder_hours: float = Field(
        default=24.0, ge=0,
        description="Hours before `publish --due` says again that a due draft is still refused "
                    "(0: at every run)",
    )


#: Public key types OpenSSH signs with (`ssh-keygen -Y sign`).
SSH_KEY_TYPES = (
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
)


def _check_ssh_key(value: str) -> str:
    """`<type> <base64> [comment]` as in a `.pub` file: the blob must name the same type."""
    import base64
    import binascii

    parts = value.split()
    if len(parts) < 2 or parts[0] not in SSH_KEY_TYPES:
        raise ValueError(_(
            "not an SSH public key; paste the whole line of the .pub file, e.g. "
            "'ssh-ed25519 AAAAC3Nza… maria@comune'"
        ))
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(_(
            "the {type} key is damaged (not base64); paste it again from the .pub file"
        ).format(type=parts[0])) from None
    if not _wire_strings_match(blob, parts[0]):
        raise ValueError(_(
            "the {type} key is damaged (cut short or altered); paste it again from the .pub file"
        ).format(type=parts[0]))
    return " ".join(parts[:2])


def _wire_strings_match(blob: bytes, key_type: str) -> bool:
    """The key blob is length-prefixed strings, the first naming `key_type`, using every byte."""
    fields, at = [], 0
    while at < len(blob):
        if at + 4 > len(blob):
            return False
        size = int.from_bytes(blob[at : at + 4], "big")
        at += 4
        if at + size > len(blob):
            return False
        fields.append(blob[at : at + size])
        at += size
    if not fields or fields[0] != key_type.encode() or len(fields) < 2:
        return False
    return not (key_type == "ssh-ed25519" and len(fields[1]) != 32)


def approver_slug(name: str) -> str:
    """`Maria Rossi` → `maria-rossi`: the approver in file names and in allowed_signers."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "approver"


def same_person(a: str, b: str) -> bool:
    """Names compared as people write them: case and repeated spaces do not matter."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class Approver(_Strict):
    """Someone who may approve drafts; with a key, only signed approvals of theirs count."""

    name: str = Field(min_length=1, description="Full name, e.g. Maria Rossi")
    key: str | None = Field(
        default=None,
        description="SSH public key (the line of her .pub file): her approvals must be signed",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not re.search(r"\w", value):
            raise ValueError(_("write the approver's name with letters, e.g. Maria Rossi"))
        return value

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return _check_ssh_key(value) if value is not None else None


class Approval(_Strict):
    """Four eyes before publishing (SPEC §8)."""

    required: bool | list[str] = Field(
        default=False,
        description="Kinds that need approval: true (every kind), false, or a list of kinds",
    )
    min_approvals: int = Field(default=1, ge=1, description="Different approvers needed")
    approvers: list[Approver] = Field(default_factory=list, description="Who may approve")
    urgent_bypass: bool = Field(
        default=False,
        description="`publish --urgent --reason` may send an emergenza without approval",
    )

    @field_validator("required", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return value
        from comunicast.drafts import KIND_SYNONYMS, Kind

        kinds = []
        for item in value:
            key = str(item).strip().lower()
            kind = KIND_SYNONYMS.get(key) or next((k for k in Kind if k.value == key), None)
            if kind is None:
                raise ValueError(_(
                    "unknown kind '{kind}'; use notizia, servizio, scadenza, evento, emergenza "
                    "or avviso"
                ).format(kind=item))
            kinds.append(kind.value)
        return kinds

    @field_validator("approvers")
    @classmethod
    def _distinct(cls, value: list[Approver]) -> list[Approver]:
        seen: dict[str, str] = {}
        for approver in value:
            slug = approver_slug(approver.name)
            if slug in seen:
                raise ValueError(_(
                    "'{name}' and '{other}' are the same approver (or the same name in file "
                    "names); list each person once"
                ).format(name=approver.name, other=seen[slug]))
            seen[slug] = approver.name
        return value

    def needed_for(self, kind: str) -> bool:
        """True when drafts of `kind` need approval."""
        if isinstance(self.required, bool):
            return self.required
        return kind in self.required

    def approver(self, name: str) -> Approver | None:
        """The configured approver called `name` (case and spacing aside), or None."""
        return next((a for a in self.approvers if same_person(a.name, name)), None)


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
            raise ValueError(_(
                "write base_url as a full address, e.g. https://www.comune.example.it/notizie/"))
        return value


class StateSetting(_Strict):
    """Where the ledger lives (SPEC §11)."""

    url: str | None = Field(
        default=None,
        description="postgresql://user:${PASSWORD_VAR}@host:5432/database; default (or when "
                    "COMUNICAST_STATE_URL is unset): the SQLite file in .comunicast/",
    )
    project: str | None = Field(
        default=None,
        description="This project's name in a shared database; default: a slug of "
                    "organization.name",
    )

    @field_validator("project")
    @classmethod
    def _project(cls, value: str | None) -> str | None:
        from comunicast.state import PROJECT_PATTERN

        if value is not None and not PROJECT_PATTERN.match(value):
            raise ValueError(_(
                "'{project}' is not a usable project name; use lowercase letters, digits, "
                "'-' and '_' (at most 63), e.g. comune-di-cremona").format(project=value))
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        from comunicast.state import is_postgres_url, mask_url

        if value is not None and not is_postgres_url(value):
            raise ValueError(_(
                "'{url}' is not a PostgreSQL URL; write "
                "postgresql://user:${{PASSWORD_VAR}}@host:5432/database, or leave state.url out "
                "for the SQLite ledger in .comunicast/").format(url=mask_url(value)))
        return value


class Config(_Strict):
    """The whole `comunicast.yaml`."""

    organization: Organization
    channel: Channel
    timezone: str = "Europe/Rome"
    language: Literal["it", "en"] | None = Field(
        default=None,
        description="Language of user-facing output; default: COMUNICAST_LANG, the locale, Italian",
    )
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
    approval: Approval = Field(default_factory=Approval)
    state: StateSetting = Field(default_factory=StateSetting)
    site: Site = Field(default_factory=Site)

    _path: Path | None = PrivateAttr(default=None)
    _positions: Positions = PrivateAttr(default_factory=Positions)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                _("unknown time zone {value!r}; use a name like Europe/Rome").format(value=value)
            ) from None
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
        from comunicast.state import state_dir_for

        return state_dir_for(self.root)

    @property
    def ledger_path(self) -> LedgerLocation:
        """Where the ledger is: the SQLite file, or this project in PostgreSQL (`state.url`,
        or COMUNICAST_STATE_URL, which wins)."""
        url = os.environ.get("COMUNICAST_STATE_URL") or self.state.url
        if not url:
            from comunicast.state import SQLITE_LEDGER

            return self.state_dir / SQLITE_LEDGER
        from comunicast.state import PostgresLocation, is_postgres_url, mask_url

        if not is_postgres_url(url):
            raise ConfigError(
                _("COMUNICAST_STATE_URL is not a PostgreSQL URL: {url}").format(
                    url=mask_url(url)),
                hint=_("write it as postgresql://user@host:5432/database, or unset it for "
                       "the SQLite ledger in .comunicast/"),
            )
        return PostgresLocation(url, self.project)

    @property
    def project(self) -> str:
        """This project's name in a shared ledger: `state.project`, or a slug of the
        organization's name."""
        if self.state.project:
            return self.state.project
        from comunicast.project import slugify

        return slugify(self.organization.name, max_length=63)

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
    approval = config.approval
    if approval.required is not False and len(approval.approvers) < approval.min_approvals:
        raise config.error(
            _("approval.min_approvals is {n} but approval.approvers lists {m}: no draft that "
              "needs approval could ever be published").format(
                n=approval.min_approvals, m=len(approval.approvers)),
            "approval", "approvers" if approval.approvers else "min_approvals",
            hint=_("add the approvers under approval.approvers, or lower min_approvals"),
        )
    return config
