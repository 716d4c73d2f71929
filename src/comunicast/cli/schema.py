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
    else:
        from comunicast.drafts import DraftFields

        schema = DraftFields.model_json_schema()
        schema["title"] = "comunicast draft"
        schema["description"] = (
            "Front matter of a .md draft, or the whole of a .yaml draft (with the body under text:)."
        )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def register(app: typer.Typer) -> None:
    """Add the `schema` command."""

    @app.command(help=_("Print the JSON Schema of comunicast.yaml (config) or of a draft (draft)."))
    def schema(
        name: Annotated[SchemaName, typer.Argument(help=_("config or draft"))],
    ) -> None:
        from comunicast.output import print_json

        print_json(json_schema(name.value))
