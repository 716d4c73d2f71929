"""The rules engine: severities, findings, the registry of rules and their typed options."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from comunicast.errors import ComunicastError
from comunicast.i18n import _

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.drafts import Draft
    from comunicast.render import MarkdownFacts
    from comunicast.senders.base import Limits


class Severity(IntEnum):
    """How much a finding matters; `error` blocks publishing."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """The lowercase name used in config and output: info, warning, error."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        """`"warning"` → Severity.WARNING."""
        return cls[value.upper()]


@dataclass(frozen=True)
class Finding:
    """One thing wrong in a draft: which rule, how bad, what to do, and where (1-based)."""

    rule: str
    severity: Severity
    message: str
    line: int | None = None
    column: int | None = None
    suggestion: str | None = None
    #: How many characters the offending text spans from `column` (for the caret in text output).
    span: int = 1

    def to_json(self) -> dict[str, Any]:
        """The finding as SPEC §3.2 writes it."""
        return {
            "rule": self.rule,
            "severity": self.severity.label,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "suggestion": self.suggestion,
        }


def sort_key(finding: Finding) -> tuple[int, int, str]:
    """Order findings by place (unplaced first), then rule id."""
    return (finding.line or 0, finding.column or 0, finding.rule)


def has_errors(findings: Iterable[Finding], *, strict: bool = False) -> bool:
    """True when a finding blocks publishing (errors; also warnings with `strict`)."""
    floor = Severity.WARNING if strict else Severity.ERROR
    return any(f.severity >= floor for f in findings)


@dataclass(frozen=True)
class Option:
    """A typed rule option with its default."""

    kind: type | tuple[type, ...]
    default: Any
    help: str
    #: For list options: the type of the items.
    item: type | None = None
    minimum: float | None = None


@dataclass(frozen=True)
class Hit:
    """What a rule function yields: a finding before severity is applied."""

    message: str
    line: int | None = None
    column: int | None = None
    suggestion: str | None = None
    span: int = 1
    #: Lower the severity to at most this (e.g. `length.text` over `warn_chars` only warns).
    cap: Severity | None = None


RuleFunc = Callable[["Context", dict[str, Any]], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A registered rule: stable id, default severity, options, and the function that checks."""

    id: str
    severity: Severity
    summary: str
    func: RuleFunc | None
    options: dict[str, Option] = field(default_factory=dict)
    #: Online rules run in the separate link-check pass, not in `check_draft`.
    online: bool = False
    #: Reads the clock or the ledger (schedule.*): run on every check, never remembered.
    volatile: bool = False


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    severity: Severity,
    summary: str,
    *,
    options: dict[str, Option] | None = None,
    online: bool = False,
    volatile: bool = False,
) -> Callable[[RuleFunc], RuleFunc]:
    """Register the decorated function as rule `rule_id` (`volatile`: it reads the clock)."""

    def register(func: RuleFunc) -> RuleFunc:
        RULES[rule_id] = Rule(rule_id, severity, summary, func, options or {}, online, volatile)
        return func

    return register


def declare(
    rule_id: str,
    severity: Severity,
    summary: str,
    *,
    options: dict[str, Option] | None = None,
    online: bool = False,
) -> None:
    """Register a rule whose findings are produced elsewhere (loading, the online pass)."""
    RULES[rule_id] = Rule(rule_id, severity, summary, None, options or {}, online)


# -- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """A rule's effective severity (None: off) and options after config overrides."""

    severity: Severity | None
    options: dict[str, Any]


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: _("a whole number"), float: _("a number"), bool: _("true or false"),
             str: _("text"), list: _("a list")}
    return _(" or ").join(names.get(k, k.__name__) for k in kinds)


def _coerce(config: Config, rule_id: str, name: str, spec: Option, value: Any) -> Any:
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok and float in kinds and isinstance(value, int) and not isinstance(value, bool):
        ok, value = True, float(value)
    if not ok:
        raise config.error(
            _("rule {rule}: option '{name}' must be {kind}, not {value!r}").format(
                rule=rule_id, name=name, kind=_type_name(spec.kind), value=value
            ),
            "rules", rule_id, name,
        )
    if spec.item is not None and isinstance(value, list):
        bad = [v for v in value if not isinstance(v, spec.item)]
        if bad:
            raise config.error(
                _("rule {rule}: every item of '{name}' must be {kind}, not {value!r}").format(
                    rule=rule_id, name=name, kind=_type_name(spec.item), value=bad[0]
                ),
                "rules", rule_id, name,
            )
    if spec.minimum is not None and isinstance(value, (int, float)) and value < spec.minimum:
        raise config.error(
            _("rule {rule}: option '{name}' must be at least {min}").format(
                rule=rule_id, name=name, min=spec.minimum
            ),
            "rules", rule_id, name,
        )
    return value


_SETTINGS: dict[int, tuple[Config, Any, dict[str, Setting]]] = {}


def settings(config: Config) -> dict[str, Setting]:
    """Every rule's effective setting; an unknown rule, option or bad value is a ConfigError."""
    cached = _SETTINGS.get(id(config))
    if cached is not None and cached[0] is config and cached[1] is config.rules:
        return cached[2]
    for rule_id in config.rules:
        if rule_id not in RULES:
            close = _closest(rule_id, RULES)
            raise config.error(
                _("unknown rule '{rule}'").format(rule=rule_id)
                + (_(" (did you mean '{close}'?)").format(close=close) if close else ""),
                "rules", rule_id,
                hint=_("the rule ids and their options are listed in the README (Rules)"),
            )
    result: dict[str, Setting] = {}
    for rule_id, spec in RULES.items():
        override = config.rules.get(rule_id)
        severity: Severity | None = spec.severity
        options = {name: opt.default for name, opt in spec.options.items()}
        if override is not None:
            if override.severity == "off":
                severity = None
            elif override.severity is not None:
                severity = Severity.parse(override.severity)
            for name, value in override.options.items():
                if name not in spec.options:
                    known = ", ".join(spec.options) or _("none")
                    raise config.error(
                        _("rule {rule} has no option '{name}' (options: {known})").format(
                            rule=rule_id, name=name, known=known
                        ),
                        "rules", rule_id, name,
                    )
                options[name] = _coerce(config, rule_id, name, spec.options[name], value)
        result[rule_id] = Setting(severity, options)
    _SETTINGS.clear()  # one config per run; keep no stale ones alive
    _SETTINGS[id(config)] = (config, config.rules, result)
    return result


def _closest(word: str, choices: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return found[0] if found else None


# -- the context a rule sees ---------------------------------------------------------------------


class Context:
    """One draft being checked, with the facts rules share computed once and on demand."""

    def __init__(
        self, draft: Draft, config: Config, now: datetime, *, published: bool = False
    ) -> None:
        self.draft = draft
        self.config = config
        self.now = now
        #: True when the ledger records the draft as published (or being published).
        self.published = published
        #: Per-draft memo for rule families (e.g. the image read once for all media rules).
        self.cache: dict[Any, Any] = {}

    @cached_property
    def facts(self) -> MarkdownFacts:
        """The body's Markdown structure: links, unsupported constructs, emphasis."""
        from comunicast.render import analyze

        return analyze(self.draft.body)

    @cached_property
    def sender_limits(self) -> dict[str, Limits]:
        """Limits of each configured sender the draft goes to (unknown names are skipped)."""
        from comunicast.senders.registry import limits_for

        names = self.draft.senders if self.draft.senders is not None else self.config.sender_names
        found: dict[str, Limits] = {}
        for name in names:
            if name in self.config.senders:
                try:
                    found[name] = limits_for(self.config, name)
                except ComunicastError:  # unknown adapter: `comunicast senders` reports it
                    continue
        return found

    @cached_property
    def masked_body(self) -> str:
        """The body with every URL blanked out (positions kept), for text rules."""
        from comunicast.rules.text import mask_urls

        return mask_urls(self.draft.body)

    @cached_property
    def body_lines(self) -> list[str]:
        """The masked body split in lines (keeping positions)."""
        return self.masked_body.split("\n")

    def body_place(self, offset: int) -> tuple[int, int]:
        """1-based file place of a 0-based character offset in the body."""
        body = self.draft.body
        line0 = body.count("\n", 0, offset)
        col0 = offset - (body.rfind("\n", 0, offset) + 1)
        return self.draft.body_place(line0, col0)

    def title_place(self, offset: int = 0) -> tuple[int | None, int | None]:
        """1-based file place of a character offset in the title."""
        chars = self.draft.title_chars
        if chars:
            return chars[min(offset, len(chars) - 1)]
        place = self.draft.positions.values.get(("title",))
        if place is None:
            return None, None
        shift = 1 if place.style in ("'", '"') else 0
        if place.style in ("|", ">"):
            return place.line, place.column
        return place.line, place.column + shift + offset

    def field_place(self, name: str) -> tuple[int | None, int | None]:
        """1-based file place of field `name`'s value (or key)."""
        place = self.draft.field_place(name)
        return place if place else (None, None)


def run_rules(ctx: Context, chosen: dict[str, Setting]) -> Iterator[Finding]:
    """Run every enabled offline rule on `ctx`, turning hits into findings."""
    for rule_id, setting in chosen.items():
        spec = RULES[rule_id]
        if setting.severity is None or spec.func is None or spec.online:
            continue
        for hit in spec.func(ctx, setting.options):
            severity = setting.severity
            if hit.cap is not None and hit.cap < severity:
                severity = hit.cap
            yield Finding(rule_id, severity, hit.message, hit.line, hit.column, hit.suggestion,
                          max(hit.span, 1))
