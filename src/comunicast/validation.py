"""Turn pydantic validation errors into located, human problems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from comunicast.errors import Problem
from comunicast.i18n import _, ngettext

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from comunicast.yamlpos import Positions


def dotted(loc: tuple[Any, ...]) -> str:
    """`('senders', 'wa', 'url')` → `senders.wa.url`; list indexes as `[0]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def problems_from_validation(
    exc: ValidationError,
    positions: Positions,
    model: type[BaseModel] | None = None,
    *,
    prefix: tuple[Any, ...] = (),
) -> list[Problem]:
    """One `Problem` per pydantic error, placed at the offending key or value."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        loc = prefix + loc
        kind = err["type"]
        name = dotted(loc)
        if kind == "extra_forbidden":
            place = positions.key(loc)
            allowed = _allowed_keys(model, loc[len(prefix) :])
            hint = _("expected one of: {keys}").format(keys=", ".join(allowed)) if allowed else None
            message = _("unknown key '{key}'").format(key=name)
            if hint:
                message += f" ({hint})"
        elif kind == "missing":
            place = positions.key(loc[:-1]) or positions.value(loc[:-1])
            message = _("missing required key '{key}'").format(key=name)
        else:
            place = positions.value(loc) if loc else None
            msg = pydantic_message(err)
            message = _("'{key}': {msg}").format(key=name, msg=msg) if name else msg
        problems.append(
            Problem(
                message,
                line=place.line if place else None,
                column=place.column if place else None,
                # Told apart by kind, not by the (translated) words of the message.
                rule="meta.unknown" if kind == "extra_forbidden" else "meta.required",
            )
        )
    return problems


def pydantic_message(err: Any) -> str:
    """What one pydantic error says, in comunicast's words and the current language.

    Pydantic writes its messages in English only; the common kinds are said again here, the
    messages of comunicast's own validators (`value_error`) are already translated, and any
    other kind is named by its code rather than shown in English.
    """
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        error = ctx.get("error")
        text = str(error) if error is not None else str(err.get("msg", ""))
        return text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in ("string_type", "string_sub_type", "str_type"):
        return _("write text here")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("write a whole number")
    if kind in ("float_type", "float_parsing", "decimal_parsing", "decimal_type"):
        return _("write a number")
    if kind in ("bool_type", "bool_parsing"):
        return _("write true or false")
    if kind in ("list_type", "tuple_type", "set_type", "iterable_type"):
        return _("write a list")
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return _("write a map of keys")
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace(" or ", _(" or "))
        return _("use one of: {choices}").format(choices=expected)
    if kind in ("too_short", "string_too_short"):
        count = int(ctx.get("min_length", 1) or 1)
        if kind == "string_too_short" and count == 1:
            return _("must not be empty")
        unit = ngettext("character", "characters", count) if kind == "string_too_short" else (
            ngettext("item", "items", count)
        )
        return _("too short: at least {n} {unit}").format(n=count, unit=unit)
    if kind in ("too_long", "string_too_long"):
        count = int(ctx.get("max_length", 0) or 0)
        unit = ngettext("character", "characters", count) if kind == "string_too_long" else (
            ngettext("item", "items", count)
        )
        return _("too long: at most {n} {unit}").format(n=count, unit=unit)
    if kind == "greater_than_equal":
        return _("must be at least {limit}").format(limit=ctx.get("ge"))
    if kind == "greater_than":
        return _("must be greater than {limit}").format(limit=ctx.get("gt"))
    if kind == "less_than_equal":
        return _("must be at most {limit}").format(limit=ctx.get("le"))
    if kind == "less_than":
        return _("must be less than {limit}").format(limit=ctx.get("lt"))
    if kind.startswith(("datetime", "date", "time")):
        return _("write a date like 2026-12-01 or a date and time like 2026-12-01 08:00")
    if kind.startswith(("url", "missing_")) or kind == "none_required":
        return _("invalid value")
    return _("invalid value ({kind})").format(kind=kind or "?")


def _allowed_keys(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """The field names accepted where the unknown key `loc[-1]` was found."""
    if model is None:
        return []
    current: Any = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return []
        current = _model_of(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    if not fields:
        return []
    return [f.alias or n for n, f in fields.items()]


def _model_of(annotation: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None
