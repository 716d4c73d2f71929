"""Helpers for the sender tests: a project config with senders, messages, real images, canaries."""

from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from comunicast.config import Config, load_config
from comunicast.senders.base import Message, Target

#: Secrets no output may ever contain; shaped like the real ones.
CANARY_TOKEN = "987654321:AAcanaryCANARYcanaryCANARYcanary42"
CANARY_KEY = "canary-waha-key-5f1d3c"
CANARY_SECRET = "canary-hmac-secret-0a9b8c7d6e5f"
CANARY_HEADER = "Bearer canary-header-token-77aa"
CANARIES = (CANARY_TOKEN, CANARY_KEY, CANARY_SECRET, CANARY_HEADER)

BASE_CONFIG = {
    "organization": {"name": "Comune di Cremona", "website": "https://www.comune.cremona.it"},
    "channel": {"invite_url": "https://whatsapp.com/channel/0029VaTestTestTestTest00"},
    "timezone": "Europe/Rome",
}


def project_config(root: Path, senders: dict[str, dict[str, Any]], extra: str = "") -> Config:
    """Write comunicast.yaml with `senders` under `root` and load it as comunicast would."""
    root.mkdir(parents=True, exist_ok=True)
    data = {**BASE_CONFIG, "senders": senders}
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True) + textwrap.dedent(extra)
    (root / "comunicast.yaml").write_text(text, encoding="utf-8")
    return load_config(root / "comunicast.yaml")


def message(
    text: str = "*Ponte sul Po chiuso*\n\nIl ponte resta chiuso dal 2 al 5 dicembre.",
    *,
    target: Target = "whatsapp",
    sender: str = "out",
    draft_id: str = "2026-12-01-ponte",
    image: Path | None = None,
    revision: str = "r1:0123456789abcdef",
    key: str = "",
) -> Message:
    """A rendered publication as the pipeline hands it to a sender."""
    return Message(
        draft_id=draft_id,
        sender=sender,
        revision=revision,
        kind="avviso",
        title="Ponte sul Po chiuso",
        text=text,
        markdown="Il **ponte sul Po** resta chiuso dal 2 al 5 dicembre.",
        plain="Ponte sul Po chiuso\n\nIl ponte sul Po resta chiuso dal 2 al 5 dicembre.",
        target=target,
        links=["https://www.comune.cremona.it/viabilita"],
        image=image,
        image_alt="Mappa dei percorsi alternativi" if image else None,
        publish_at=datetime.fromisoformat("2026-12-01T08:00:00+01:00"),
        idempotency_key=key or f"{draft_id}:{sender}:{revision}",
    )


def jpeg(path: Path, size: tuple[int, int] = (64, 48)) -> Path:
    """A real JPEG image."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (0, 51, 102)).save(path, "JPEG")
    return path


def png(path: Path, size: tuple[int, int] = (32, 32)) -> Path:
    """A real PNG image."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 30, 30)).save(path, "PNG")
    return path


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record of every logger, at DEBUG, formatted with its arguments."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def assert_no_canary(*texts: object) -> None:
    """No canary secret in any of `texts` (str() of exceptions, outputs, reprs, log text)."""
    for text in texts:
        rendered = text if isinstance(text, str) else repr(text) + " " + str(text)
        for canary in CANARIES:
            for form in (
                canary,
                canary.split(":")[-1],
                canary.split(" ")[-1],
                canary.replace(" ", "%20"),
            ):
                assert form not in rendered, f"secret leaked: {rendered[:300]!r}"


def exception_texts(exc: BaseException) -> list[str]:
    """str/repr of an exception and of everything chained to it, and its formatted traceback."""
    import traceback

    out = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out += [str(current), repr(current), repr(getattr(current, "args", ()))]
        current = current.__cause__ or current.__context__
    out.append("".join(traceback.format_exception(exc)))
    return out
