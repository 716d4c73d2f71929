"""The one image a message may carry, read and checked the way the platforms will."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from comunicast.i18n import _, format_number
from comunicast.senders.base import NotDelivered

_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


@dataclass(frozen=True)
class Image:
    """Image bytes with the MIME type found in their content."""

    data: bytes
    mimetype: str
    filename: str
    suffix: str


def sniff(data: bytes) -> tuple[str, str] | None:
    """(MIME type, file suffix) of JPEG or PNG content, else None."""
    for magic, mimetype, suffix in _SIGNATURES:
        if data.startswith(magic):
            return mimetype, suffix
    return None


def read_image(path: Path, max_bytes: int, what: str) -> Image:
    """Read `path`; JPEG/PNG by content and at most `max_bytes`, else NotDelivered (not retryable)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotDelivered(
            _("{what}: cannot read image {path}: {reason}").format(
                what=what, path=path, reason=exc.strerror or type(exc).__name__
            )
        ) from None
    if len(data) > max_bytes:
        raise NotDelivered(
            _("{what}: image {name} is {size} MB, over the {limit} MB limit").format(
                what=what,
                name=path.name,
                size=format_number(len(data) / 1e6, 1),
                limit=format_number(max_bytes / (1024 * 1024)),
            )
        )
    found = sniff(data)
    if found is None:
        raise NotDelivered(
            _("{what}: image {name} is neither JPEG nor PNG").format(what=what, name=path.name)
        )
    mimetype, suffix = found
    return Image(data=data, mimetype=mimetype, filename=path.name, suffix=suffix)
