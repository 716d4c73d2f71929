"""`comunicast schema config|draft`: JSON Schemas of the two file formats, for editors."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from comunicast.i18n import _


class SchemaName(str, Enum):
    config = "config"
    draft = "draft"


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of comunicast.yaml or of a draft's fields."""
    if name == "config":
        from comunicast.config import Config

        schema = Config.model_json_schema()
        schema["title"] = "comunicast.yaml"
        schema["properties"]["rules"] = _rules_schema()
        schema.get("$defs", {}).pop("RuleSetting", None)
    else:
        from comunicast.drafts import DraftFields

        schema = DraftFields.model_json_schema()
        schema["title"] = "comunicast draft"
        schema["description"] = (
            "Front matter of a .md draft, or the whole of a .yaml draft (with the body under text:)."
        )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


_JSON_TYPES = {int: "integer", float: "number", bool: "boolean", str: "string", list: "array"}


def _option_schema(option: Any) -> dict[str, Any]:
    kinds = option.kind if isinstance(option.kind, tuple) else (option.kind,)
    types = sorted({_JSON_TYPES[k] for k in kinds if k in _JSON_TYPES})
    if "number" in types and "integer" in types:
        types.remove("integer")
    out: dict[str, Any] = {"description": option.help, "default": option.default}
    if types:
        out["type"] = types[0] if len(types) == 1 else types
    if option.item is not None and option.item in _JSON_TYPES:
        out["items"] = {"type": _JSON_TYPES[option.item]}
    if option.minimum is not None:
        out["minimum"] = option.minimum
    return out


def _rules_schema() -> dict[str, Any]:
    """`rules:` with every rule id and its options, as the rules engine checks them.

    Each rule takes a bare severity (`off` unquoted is YAML's false) or a map of `severity` and
    the rule's options; unknown rules and options are errors, as they are for comunicast.
    """
    from comunicast.rules import RULES

    severity = {"enum": ["off", "info", "warning", "error", False, None]}
    properties: dict[str, Any] = {}
    for rule_id, spec in sorted(RULES.items()):
        setting = {
            "type": "object",
            "properties": {
                "severity": severity,
                **{name: _option_schema(opt) for name, opt in spec.options.items()},
            },
            "additionalProperties": False,
        }
        properties[rule_id] = {
            "description": f"{spec.summary} (default: {spec.severity.label})",
            "anyOf": [severity, setting],
        }
    return {
        "title": "Rules",
        "description": "Per-rule overrides: a severity (off | info | warning | error) or a map "
        "of severity and the rule's options",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def register(app: typer.Typer) -> None:
    """Add the `schema` command."""

    @app.command(help=_("Print the JSON Schema of comunicast.yaml (config) or of a draft (draft)."))
    def schema(
        name: Annotated[SchemaName, typer.Argument(help=_("config or draft"))],
    ) -> None:
        from comunicast.output import print_json

        print_json(json_schema(name.value))
