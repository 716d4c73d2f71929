"""How each target writes the pieces of a message: text, URLs, emphasis, code, links, quotes.

WhatsApp has no escape character, so literal `*` `_` `~` and backticks that come from the source
text (`5 * 3`, an escaped `\\*`, `snake_case`) are written as private placeholders while the
message is assembled, and resolved by `WhatsApp.finish` once the final neighbours are known.
WhatsApp formats a marker pair only when the opening marker follows a line start, a space or
punctuation and precedes a non-space, and the closing marker follows a non-space and precedes a
line end, a space or punctuation. U+2060 WORD JOINER is invisible and, to that rule, neither a
space nor punctuation: in front of a literal marker it stops it opening, behind it it stops it
closing. Each literal marker that could open or close gets the joiners it needs (both when one
alone would let it do the other, as in `(*)`); a marker between two letters (`snake_case`) or
between two spaces (`5 * 3`) can do neither and is left alone. This rests on that model of
WhatsApp's parser (public behaviour, not a documented grammar); it is all in `WhatsApp.finish`.
Likewise a literal `>` that ends up first on a line (an escaped `\\>`) gets a joiner in front, so
it does not turn the line into a quote.
URLs are never touched: emphasis is applied around them (`*Vedi* https://… *ora*`), so no marker
ever touches a URL and no word joiner is ever inserted into one.
Known limit: emphasis inside a word (`Il**Po**lesine`, valid CommonMark) becomes `Il*Po*lesine`,
which WhatsApp, by the same rule, shows with its stars rather than in bold.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

Target = Literal["whatsapp", "telegram", "plain"]
TARGETS: tuple[Target, ...] = ("whatsapp", "telegram", "plain")

Style = Literal["b", "i", "s"]

WORD_JOINER = "\u2060"
_PLACEHOLDER = {"*": "\ufdd0", "_": "\ufdd1", "~": "\ufdd2", "`": "\ufdd3", ">": "\ufdd6"}
_LITERAL = {v: k for k, v in _PLACEHOLDER.items()}
_URL_START, _URL_END = "\ufdd4", "\ufdd5"
_LITERAL_QUOTE = "\ufdd6"  # a literal `>`: at a line start WhatsApp would make it a quote
_LINE_START_QUOTE_RE = re.compile(f"^([ \t]*){_LITERAL_QUOTE}", re.MULTILINE)
_PLACEHOLDER_RE = re.compile("[\ufdd0-\ufdd3]")
_URL_SEGMENT_RE = re.compile(f"({_URL_START}[^{_URL_END}]*{_URL_END})")
_MARKERS_RE = re.compile("[*_~`>]")
_CODE_MARKERS_RE = re.compile("[*_~]")
# Link schemes Telegram accepts in <a href>; anything else is shown as text.
_TELEGRAM_SCHEMES = ("http://", "https://", "mailto:", "tg://")


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _split_ws(text: str) -> tuple[str, str, str]:
    """`text` as (leading whitespace, core, trailing whitespace)."""
    core = text.strip()
    if not core:
        return text, "", ""
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return lead, core, trail


class Plain:
    """Plain text: no markup at all; links as `label: url`; quotes keep `> `."""

    name: ClassVar[str] = "plain"
    bullet: ClassVar[str] = "- "
    rule: ClassVar[str] = "———"
    quote_prefix: ClassVar[str] = "> "

    def text(self, text: str) -> str:
        """Literal source text."""
        return text

    def url(self, url: str) -> str:
        """A URL shown as is."""
        return url

    def code(self, code: str) -> str:
        """Inline code."""
        return code

    def style(self, style: Style, inner: str) -> str:
        """Bold, italic or strikethrough around already-rendered `inner`."""
        return inner

    def link(self, inner: str, label: str, url: str) -> str:
        """A Markdown link: `label: url`, or the URL alone when the label is the URL."""
        if url.lower().startswith("mailto:") and _same_target(label, url):
            return self.text(label.strip())  # `<urp@comune.it>`: the address, as written
        if not label.strip() or _same_target(label, url):
            return self.url(url)
        lead, core, trail = _split_ws(inner)
        separator = " " if label.rstrip().endswith(":") else ": "
        return lead + core + self.labelled_url(separator, url) + trail

    def labelled_url(self, separator: str, url: str) -> str:
        """The separator and URL that follow a link's label."""
        return separator + self.url(url)

    def image(self, alt: str, url: str) -> str:
        """An inline image, degraded to its alt text and URL."""
        if not alt.strip():
            return self.url(url)
        return self.text(alt) + ": " + self.url(url)

    def raw(self, text: str) -> str:
        """Raw HTML or other source shown as literal text."""
        return self.text(text)

    def ordered(self, number: int) -> str:
        """The marker of an ordered list item."""
        return f"{number}. "

    def code_block(self, code: str) -> list[str]:
        """A fenced or indented code block, as lines."""
        return code.split("\n") if code else []

    def quote(self, lines: list[str], depth: int) -> list[str]:
        """A block quote around already-rendered lines (`depth` 1 is the outermost)."""
        return [self.quote_prefix + line if line else "" for line in lines]

    def finish(self, text: str) -> str:
        """Last pass over the whole message."""
        return text


class Reading(Plain):
    """What a reader reads, for readability scores: no URLs, no list or quote markers."""

    name: ClassVar[str] = "reading"
    bullet: ClassVar[str] = ""
    rule: ClassVar[str] = ""

    def url(self, url: str) -> str:
        return ""

    def link(self, inner: str, label: str, url: str) -> str:
        return "" if _same_target(label, url) else inner

    def image(self, alt: str, url: str) -> str:
        return alt

    def ordered(self, number: int) -> str:
        return ""

    def quote(self, lines: list[str], depth: int) -> list[str]:
        return lines


class WhatsApp(Plain):
    """WhatsApp markup: `*b*` `_i_` `~s~` `` `c` `` ```` ```block``` ```` `> `, `- `, `1. `."""

    name: ClassVar[str] = "whatsapp"
    _marks: ClassVar[dict[str, str]] = {"b": "*", "i": "_", "s": "~"}

    def text(self, text: str) -> str:
        return _MARKERS_RE.sub(lambda m: _PLACEHOLDER[m.group(0)], text)

    def url(self, url: str) -> str:
        return _URL_START + url + _URL_END

    def labelled_url(self, separator: str, url: str) -> str:
        # The separator joins the URL's protected segment, so emphasis closes before it.
        return _URL_START + separator + url + _URL_END

    def code(self, code: str) -> str:
        if "`" not in code:
            return "`" + _CODE_MARKERS_RE.sub(lambda m: _PLACEHOLDER[m.group(0)], code) + "`"
        # A backtick inside inline code would end it: use the monospace form instead.
        return "```" + code.replace("```", "``" + WORD_JOINER + "`") + "```"

    def style(self, style: Style, inner: str) -> str:
        mark = self._marks[style]
        lines = []
        for line in inner.split("\n"):
            pieces = []
            for piece in _URL_SEGMENT_RE.split(line):
                if piece.startswith(_URL_START) or not _has_word(piece):
                    pieces.append(piece)
                    continue
                lead, core, trail = _split_ws(piece)
                pieces.append(lead + mark + core + mark + trail)
            lines.append("".join(pieces))
        return "\n".join(lines)

    def code_block(self, code: str) -> list[str]:
        if not code.strip():
            return []
        return ("```" + code.replace("```", "``" + WORD_JOINER + "`") + "```").split("\n")

    def finish(self, text: str) -> str:
        text = text.replace(_URL_START, "").replace(_URL_END, "")
        if _LITERAL_QUOTE in text:
            text = _LINE_START_QUOTE_RE.sub(r"\1" + WORD_JOINER + ">", text)
            text = text.replace(_LITERAL_QUOTE, ">")
        if not _PLACEHOLDER_RE.search(text):
            return text

        def literal(m: re.Match[str]) -> str:
            k = m.start()
            prev = text[k - 1] if k > 0 else ""
            nxt = text[k + 1] if k + 1 < len(text) else ""
            could_open = _boundary(prev) and bool(nxt) and not nxt.isspace()
            could_close = bool(prev) and not prev.isspace() and _boundary(nxt)
            # A joiner in front stops it opening but lets it close if punctuation follows; a
            # joiner behind stops it closing but lets it open after punctuation: so each side
            # gets one when needed, and both when one alone would enable the other.
            before = could_open or (could_close and _boundary(prev))
            after = could_close or (before and _boundary(nxt))
            return (
                (WORD_JOINER if before else "")
                + _LITERAL[m.group(0)]
                + (WORD_JOINER if after else "")
            )

        # Two adjacent literal markers share the joiner between them.
        return _PLACEHOLDER_RE.sub(literal, text).replace(WORD_JOINER * 2, WORD_JOINER)


class Telegram(Plain):
    """Telegram Bot API HTML (`parse_mode=HTML`): `<b>` `<i>` `<s>` `<code>` `<pre>` `<a>`."""

    name: ClassVar[str] = "telegram"
    bullet: ClassVar[str] = "• "
    _tags: ClassVar[dict[str, str]] = {"b": "b", "i": "i", "s": "s"}

    def text(self, text: str) -> str:
        return escape_html(text)

    def url(self, url: str) -> str:
        return escape_html(url)

    def code(self, code: str) -> str:
        return "<code>" + escape_html(code) + "</code>"

    def style(self, style: Style, inner: str) -> str:
        lead, core, trail = _split_ws(inner)
        if not core:
            return inner
        tag = self._tags[style]
        return f"{lead}<{tag}>{core}</{tag}>{trail}"

    def link(self, inner: str, label: str, url: str) -> str:
        if not url.lower().startswith(_TELEGRAM_SCHEMES):
            return super().link(inner, label, url)
        if not label.strip():
            return f'<a href="{escape_attribute(url)}">{escape_html(url)}</a>'
        lead, core, trail = _split_ws(inner)
        return f'{lead}<a href="{escape_attribute(url)}">{core}</a>{trail}'

    def code_block(self, code: str) -> list[str]:
        if not code.strip():
            return []
        return ("<pre>" + escape_html(code) + "</pre>").split("\n")

    def quote(self, lines: list[str], depth: int) -> list[str]:
        # Telegram cannot nest quotes: only the outermost one becomes <blockquote>.
        if depth > 1 or not lines:
            return lines
        out = list(lines)
        out[0] = "<blockquote>" + out[0]
        out[-1] = out[-1] + "</blockquote>"
        return out


def _boundary(ch: str) -> bool:
    """True where WhatsApp lets a marker open or close: line edge, space, punctuation."""
    return not ch or ch.isspace() or not (ch.isalnum() or ch == WORD_JOINER)


def _same_target(label: str, url: str) -> bool:
    label = label.strip()
    return label == url or "mailto:" + label == url or label.rstrip("/") == url.rstrip("/")


def escape_html(text: str) -> str:
    """Escape `&`, `<`, `>` for Telegram HTML text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(text: str) -> str:
    """Escape a Telegram HTML attribute value (double-quoted)."""
    return escape_html(text).replace('"', "&quot;")


EMITTERS: dict[str, Plain] = {
    "whatsapp": WhatsApp(),
    "telegram": Telegram(),
    "plain": Plain(),
    "reading": Reading(),
}
