"""Create projects (`init`) and drafts (`new`) from the templates shipped in the package."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from comunicast.config import CONFIG_NAME
from comunicast.drafts import KIND_SYNONYMS, Kind
from comunicast.errors import ConfigError, UsageError
from comunicast.i18n import _

GITIGNORE_LINES = (".comunicast/", "outbox/")
SCHEMA_HINT = "# yaml-language-server: $schema=./.comunicast-config.schema.json\n"


def _templates() -> resources.abc.Traversable:
    return resources.files("comunicast") / "templates"


def init_project(
    directory: Path, *, name: str, website: str, today: date, force: bool = False
) -> list[Path]:
    """Write comunicast.yaml, messages/ examples and .gitignore into `directory`; return what was written.

    Example dates fall in the year after `today`, so a new project's examples are never expired.
    """
    if not website.startswith("https://"):
        raise UsageError(_("--website must start with https://"))
    host = urlsplit(website).hostname or ""
    domain = host.removeprefix("www.")
    templates = _templates()
    config_text = Template((templates / "project" / "comunicast.yaml").read_text("utf-8"))
    files: dict[Path, str] = {
        directory / CONFIG_NAME: config_text.safe_substitute(
            name=name, website=website, domain=domain
        )
    }
    examples = templates / "examples"
    for example in sorted(examples.iterdir(), key=lambda t: t.name):
        if example.name.endswith((".md", ".yaml", ".yml")):
            text = Template(example.read_text("utf-8")).safe_substitute(
                name=name, website=website, domain=domain, next_year=str(today.year + 1)
            )
            files[directory / "messages" / example.name] = text

    existing = [p for p in files if p.exists()]
    if existing and not force:
        listed = ", ".join(str(p) for p in existing)
        raise ConfigError(
            _("not overwriting existing files: {files}").format(files=listed),
            hint=_("use --force to overwrite them, or choose another folder"),
        )
    written = []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    gitignore = directory / ".gitignore"
    current = gitignore.read_text("utf-8") if gitignore.exists() else ""
    missing = [line for line in GITIGNORE_LINES if line not in current.splitlines()]
    if missing:
        prefix = "" if not current or current.endswith("\n") else "\n"
        with gitignore.open("a", encoding="utf-8") as fh:
            fh.write(prefix + "\n".join(missing) + "\n")
        written.append(gitignore)
    return written


def slugify(title: str, max_length: int = 60) -> str:
    """`Ponte sul Po: chiuso!` → `ponte-sul-po-chiuso` (accents folded, ASCII only)."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug or "messaggio"


def parse_kind(value: str) -> Kind:
    """An Italian kind or its English synonym."""
    key = value.strip().lower()
    if key in KIND_SYNONYMS:
        return KIND_SYNONYMS[key]
    try:
        return Kind(key)
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        raise UsageError(
            _("unknown kind '{kind}': use one of {kinds}").format(kind=value, kinds=kinds)
        ) from None


def new_draft(
    messages_dir: Path, title: str, *, kind: Kind, at: datetime | date | None, today: date
) -> Path:
    """Create `messages/<date>-<slug>.md` from the kind's template; never overwrite an existing file."""
    if not title.strip():
        raise UsageError(_("the title is empty"))
    if "\n" in title:
        raise UsageError(_("the title must be one line"))
    day = (at.date() if isinstance(at, datetime) else at) or today
    if at is None:
        publish_line = ""
    elif isinstance(at, datetime):
        publish_line = f"publish_at: {at:%Y-%m-%d %H:%M}\n"
    else:
        publish_line = f"publish_at: {at:%Y-%m-%d}\n"
    template = Template((_templates() / "new" / f"{kind.value}.md").read_text("utf-8"))
    text = template.safe_substitute(
        title=_yaml_string(title.strip()),
        kind=kind.value,
        publish_at_line=publish_line,
        today=f"{today:%Y-%m-%d}",
        day=f"{day:%Y-%m-%d}",
    )
    messages_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{day:%Y-%m-%d}-{slugify(title)}"
    path = messages_dir / f"{stem}.md"
    counter = 2
    while True:
        try:
            with path.open("x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
                fh.write(text)
            return path
        except FileExistsError:
            path = messages_dir / f"{stem}-{counter}.md"
            counter += 1


def _yaml_string(value: str) -> str:
    """A YAML scalar for `value` that reads back as exactly that string."""
    import json

    plain_ok = re.fullmatch(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^#]*", value) and ": " not in value
    if plain_ok and not value.endswith(":") and value.strip() == value:
        import yaml

        if yaml.safe_load(value) == value:
            return value
    return json.dumps(value, ensure_ascii=False)
