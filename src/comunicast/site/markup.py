"""A message's text as safe HTML, the way WhatsApp shows it (site pages, feeds and the desk).

WhatsApp's markup: `*bold*` `_italic_` `~strike~`, ```` ```monospace``` ````, `` `code` ``,
`- `/`* ` and `1. ` lists, `> ` quotes, bare URLs auto-linked. A marker pair is formatted only
when the opening marker follows a line start, a space or punctuation and precedes a non-space,
and the closing marker follows a non-space and precedes a line end, a space or punctuation;
U+2060 WORD JOINER counts as neither (the same model `render.targets.WhatsApp` writes for, so a
literal `*` the renderer protected stays a star here too). Everything is escaped first: no text
of a message can ever become markup of the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

WORD_JOINER = "\u2060"
# Trailing punctuation is not part of a URL ("vedi https://x.it/a." ends with the sentence).
_URL_RE = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?»)]'"
_MONO_RE = re.compile(r"```(?=\S)(.+?)(?<=\S)```")
_CODE_RE = re.compile(r"(?<![^\W_]|\u2060)`(?=[^\s`])([^`]+?)(?<=\S)`(?![^\W_]|\u2060)")
_TOKEN_RE = re.compile("\x00(\\d+)\x00")
_STYLES = (("*", "strong"), ("_", "em"), ("~", "s"))
_BULLET_RE = re.compile(r"^[-*•] (.*)$")
_NUMBER_RE = re.compile(r"^(\d{1,9})[.)] (.*)$")


def _style_re(mark: str) -> re.Pattern[str]:
    m = re.escape(mark)
    return re.compile(
        rf"(?<![^\W_]|\u2060){m}(?=[^\s{m}])(.+?)(?<=[^\s{m}]){m}(?![^\W_]|\u2060)"
    )


def _wrap(tag: str) -> Callable[[re.Match[str]], str]:
    opening, closing = f"<{tag}>", f"</{tag}>"
    return lambda m: opening + m.group(1) + closing  # cheaper than a template like r"<b>\1</b>"


_STYLE_RES = [(_style_re(mark), _wrap(tag)) for mark, tag in _STYLES]


def inline(line: str, *, markup: bool = True) -> str:
    """One line of text as HTML: escaped, URLs linked, WhatsApp emphasis applied (`markup`)."""
    tokens: list[str] = []

    def keep(html: str) -> str:
        tokens.append(html)
        return f"\x00{len(tokens) - 1}\x00"

    def link(m: re.Match[str]) -> str:
        url = m.group(0).rstrip(_URL_TAIL)
        tail = m.group(0)[len(url):]
        if "://" not in url or url.endswith("://"):
            return m.group(0)
        return keep(f'<a href="{escape(url, quote=True)}">{escape(url, quote=False)}</a>') + tail

    text = line.replace("\x00", "")
    # Each pattern only where its marker occurs: the site turns thousands of texts into HTML.
    if markup and "`" in text:
        text = _MONO_RE.sub(lambda m: keep(f"<code>{_linked(m.group(1))}</code>"), text)
        text = _CODE_RE.sub(lambda m: keep(f"<code>{_linked(m.group(1))}</code>"), text)
    if "://" in text:
        text = _URL_RE.sub(link, text)
    text = escape(text, quote=False)
    if markup:
        for (mark, _tag), (pattern, wrap) in zip(_STYLES, _STYLE_RES, strict=True):
            if mark in text:
                text = pattern.sub(wrap, text)
    while tokens and _TOKEN_RE.search(text):  # tokens may hold tokens (a URL inside monospace)
        text = _TOKEN_RE.sub(lambda m: tokens[int(m.group(1))], text)
    return text


def _linked(text: str) -> str:
    return inline(text, markup=False)


def to_html(text: str, *, markup: bool = True) -> str:
    """A whole message as HTML blocks: paragraphs, lists, quotes, monospace blocks.

    `markup=False` reads plain text (lists, quotes and links, no emphasis).
    """
    out: list[str] = []
    paragraph: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")

    def flush() -> None:
        if paragraph:
            out.append("<p>" + "<br>\n".join(inline(x, markup=markup) for x in paragraph) + "</p>")
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if markup and line.startswith("```") and not (
            len(line) > 6 and line.endswith("```") and _MONO_RE.fullmatch(line)
        ):
            # A monospace block: up to the line that ends with ``` (or the end of the text).
            flush()
            block = [line[3:]]
            while not block[-1].endswith("```") and i + 1 < len(lines):
                i += 1
                block.append(lines[i])
            body = "\n".join(block)
            body = body.removesuffix("```")
            body = body.removeprefix("\n").removesuffix("\n")
            out.append(f"<pre>{escape(body, quote=False)}</pre>")
            i += 1
            continue
        if not line.strip():
            flush()
            i += 1
            continue
        if line.startswith("> ") or line == ">":
            flush()
            quoted = []
            while i < len(lines) and (lines[i].startswith("> ") or lines[i] == ">"):
                quoted.append(lines[i][2:])
                i += 1
            out.append("<blockquote>" + to_html("\n".join(quoted), markup=markup) + "</blockquote>")
            continue
        bullet, number = _BULLET_RE.match(line), _NUMBER_RE.match(line)
        if bullet or number:
            flush()
            ordered = number is not None
            pattern = _NUMBER_RE if ordered else _BULLET_RE
            items = []
            start = int(number.group(1)) if number else 1
            while i < len(lines) and (found := pattern.match(lines[i])):
                items.append(found.group(found.lastindex or 1))
                i += 1
            tag = "ol" if ordered else "ul"
            attrs = f' start="{start}"' if ordered and start != 1 else ""
            body = "".join(f"<li>{inline(item, markup=markup)}</li>" for item in items)
            out.append(f"<{tag}{attrs}>{body}</{tag}>")
            continue
        paragraph.append(line)
        i += 1
    flush()
    return "\n".join(out)


def without_title(text: str, title: str | None, *, markup: bool = True) -> str:
    """The text without its first line when that line is the title (`render.title: true`).

    The site shows the title as the page's heading; repeating it as a bold first line would
    say it twice.
    """
    if not title:
        return text
    first, sep, rest = text.partition("\n")
    bare = first.replace(WORD_JOINER, "").strip()
    if markup and bare.startswith("*") and bare.endswith("*"):
        bare = bare[1:-1]
    if bare == title.strip():
        return rest.lstrip("\n") if sep else ""
    return text
