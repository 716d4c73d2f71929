"""Turn pydantic validation errors into located, human problems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from comunicast.errors import Problem
from comunicast.i18n import _

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
            msg = str(err.get("msg", "invalid value"))
            msg = msg.removeprefix("Value error, ")
            message = _("'{key}': {msg}").format(key=name, msg=msg) if name else msg
        problems.append(
            Problem(
                message,
                line=place.line if place else None,
                column=place.column if place else None,
            )
        )
    return problems


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
