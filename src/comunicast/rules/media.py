"""Media rules: the attached image exists, is JPEG/PNG by content, small enough, without GPS."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from comunicast.i18n import _, format_number
from comunicast.rules.engine import Context, Hit, Option, Severity, rule

FORMATS = ("JPEG", "PNG")
_GPS_IFD = 0x8825


class ImageFacts:
    """What the media rules need to know about one image file, read once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def exists(self) -> bool:
        """True when the path is a readable file."""
        return self.path.is_file()

    @cached_property
    def size(self) -> int:
        """Size in bytes."""
        return self.path.stat().st_size

    @cached_property
    def _probe(self) -> tuple[str | None, bool]:
        """(format by content or None, has GPS coordinates)."""
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(self.path) as image:
                fmt = image.format
                gps = False
                try:
                    gps_ifd = image.getexif().get_ifd(_GPS_IFD)
                    # 2 = GPSLatitude, 4 = GPSLongitude: coordinates, not just a GPS timestamp.
                    gps = bool(gps_ifd) and (2 in gps_ifd or 4 in gps_ifd)
                except Exception:  # noqa: BLE001 - a broken EXIF block is not a location
                    gps = False
                return fmt, gps
        except (UnidentifiedImageError, OSError, ValueError):
            return None, False

    @property
    def format(self) -> str | None:
        """The image format by content (JPEG, PNG, GIF, …), None when not an image."""
        return self._probe[0]

    @property
    def has_location(self) -> bool:
        """True when EXIF carries GPS coordinates."""
        return self._probe[1]


def _image(ctx: Context) -> ImageFacts | None:
    if ctx.draft.image is None:
        return None
    facts = ctx.cache.get("image")
    if facts is None:
        facts = ctx.cache["image"] = ImageFacts(ctx.draft.image)
    return facts


@rule("media.missing", Severity.ERROR, _("image does not exist"))
def _missing(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    image = _image(ctx)
    if image is not None and not image.exists:
        line, column = ctx.field_place("image")
        yield Hit(
            _("image {path} does not exist: check the file name (it is relative to the draft's "
              "folder)").format(path=image.path.name),
            line, column,
        )


@rule("media.format", Severity.ERROR, _("not JPEG/PNG (by content, not by extension)"))
def _format(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    image = _image(ctx)
    if image is None or not image.exists:
        return
    fmt = image.format
    if fmt in FORMATS:
        return
    line, column = ctx.field_place("image")
    if fmt is None:
        message = _("{name} is not an image WhatsApp can show: save it as JPEG or PNG").format(
            name=image.path.name)
    else:
        message = _("{name} is a {fmt} image: save it as JPEG or PNG").format(
            name=image.path.name, fmt=fmt)
    yield Hit(message, line, column)


@rule(
    "media.size",
    Severity.ERROR,
    _("over 5 MB"),
    options={"max_bytes": Option(int, 5 * 1024 * 1024, _("largest image in bytes"), minimum=1)},
)
def _size(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    image = _image(ctx)
    if image is None or not image.exists:
        return
    limit = opts["max_bytes"]
    for limits in ctx.sender_limits.values():
        if limits.images:
            limit = min(limit, limits.max_image_bytes)
    if image.size > limit:
        line, column = ctx.field_place("image")
        yield Hit(
            _("{name} is {size} MB, over {limit} MB: resize it (1600 pixels wide is "
              "plenty for a phone)").format(
                name=image.path.name, size=format_number(image.size / 1048576, 1),
                limit=format_number(limit / 1048576, 1)),
            line, column,
        )


@rule("media.location", Severity.WARNING,
      _("the image carries GPS coordinates in its EXIF data"))
def _location(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    image = _image(ctx)
    if image is None or not image.exists or image.format is None:
        return
    if image.has_location:
        line, column = ctx.field_place("image")
        yield Hit(
            _("{name} carries GPS coordinates of where it was taken: remove the location "
              "(export it again without metadata)").format(name=image.path.name),
            line, column,
        )


@rule("media.alt", Severity.ERROR, _("image without image_alt"))
def _alt(ctx: Context, opts: dict[str, Any]) -> Iterator[Hit]:
    if ctx.draft.image is not None and not (ctx.draft.image_alt or "").strip():
        line, column = ctx.field_place("image")
        yield Hit(
            _("image without image_alt: add `image_alt:` describing the image for people who "
              "cannot see it"),
            line, column,
        )
