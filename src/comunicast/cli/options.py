"""Option types shared by several commands."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from comunicast.i18n import _


class OutputFormat(str, Enum):
    """`--format text|json` of the commands that list or report something."""

    text = "text"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help=_("text or json."))]
