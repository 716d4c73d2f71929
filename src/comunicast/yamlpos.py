"""Safe YAML loading that remembers where every key and value came from.

Only plain data is built (SafeLoader: no object-constructing tags), aliases are expanded under a node
budget (so an alias bomb is an error, not an out-of-memory), duplicate keys are errors, and every key
and value gets its 1-based line and column in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from comunicast.i18n import _

Path_ = tuple[Any, ...]

# libyaml's parser is several times faster and reports the same marks.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")

#: How many nodes one document may expand to; far above any real config or draft.
MAX_NODES = 20_000


@dataclass(frozen=True)
class Place:
    """Where a key or value starts (1-based), and the scalar style of a value (`|`, `>`, `"`, `'`, None)."""

    line: int
    column: int
    style: str | None = None


class YamlProblem(Exception):
    """A YAML document that cannot be loaded; `line`/`column` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class Positions:
    """Places of keys and values, by path of keys from the document root."""

    keys: dict[Path_, Place] = field(default_factory=dict)
    values: dict[Path_, Place] = field(default_factory=dict)

    def key(self, path: Path_) -> Place | None:
        """The place of the key at `path`, or of the nearest enclosing key."""
        path = tuple(path)
        while path:
            if path in self.keys:
                return self.keys[path]
            path = path[:-1]
        return None

    def value(self, path: Path_) -> Place | None:
        """The place of the value at `path`, or of the nearest enclosing one."""
        path = tuple(path)
        while True:
            if path in self.values:
                return self.values[path]
            if not path:
                return None
            path = path[:-1]


def load(text: str, *, line_offset: int = 0) -> tuple[Any, Positions]:
    """Load one YAML document from `text`; lines are shifted by `line_offset` (front matter)."""
    loader = _Loader(text)
    positions = Positions()
    try:
        node = loader.get_single_node()
        if node is None:
            return None, positions
        budget = [MAX_NODES]
        data = _build(loader, node, (), positions, budget, line_offset)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = _problem(f"{exc.problem} {exc.context}")
        advice = _advice(f"{exc.problem} {exc.context}")
        if advice:
            problem = f"{problem}: {advice}"
        message = _("invalid YAML: {problem}").format(problem=problem)
        if mark is None:
            raise YamlProblem(message) from None
        raise YamlProblem(message, mark.line + 1 + line_offset, mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(_("invalid YAML: {problem}").format(problem=_problem(str(exc)))) from None
    except RecursionError:
        raise YamlProblem(_("YAML nested too deeply")) from None
    finally:
        loader.dispose()
    return data, positions


def _problem(text: str) -> str:
    """PyYAML's complaint in comunicast's words (it writes English only)."""
    known = (
        ("mapping values are not allowed", _("a ':' where no key can start")),
        ("could not find expected ':'", _("a key without ':' after it")),
        ("did not find expected key", _("a line where a key was expected: check the indentation")),
        ("did not find expected node content", _("a value is missing")),
        ("did not find expected ',' or ']'", _("a list in [ ] is not closed")),
        ("did not find expected ',' or '}'", _("a map in { } is not closed")),
        ("expected <block end>", _("the indentation does not match the lines above")),
        ("expected a single document", _("more than one YAML document (---) in the file")),
        ("but found another document", _("more than one YAML document (---) in the file")),
        ("found undefined alias", _("an alias (*name) that is never defined")),
        ("found duplicate anchor", _("an anchor (&name) defined twice")),
        ("found unknown escape character", _("an unknown escape (\\…) inside double quotes")),
        ("found unexpected end of stream", _("the file ends inside a quoted value")),
        ("tab", _("a tab character")),
        ("cannot start any token", _("a character that cannot start a value (such as @ or `)")),
        ("while scanning a quoted scalar", _("a quoted value that is not closed")),
        ("while scanning an alias", _("a '*' that does not start an alias")),
        ("while scanning an anchor", _("a '&' that does not start an anchor")),
        ("while scanning a simple key", _("a key without ':' after it")),
        ("while parsing a block mapping", _("the indentation does not match the lines above")),
        ("while parsing a flow", _("a list in [ ] or map in { } that is not closed")),
    )
    for english, ours in known:
        if english in text:
            return ours
    return _("the YAML syntax is not valid here")


def _advice(text: str) -> str | None:
    """What to do about the YAML mistakes people make most when they edit by hand."""
    if "tab" in text or "'\\t'" in text:
        return _("indent with spaces, not tabs")
    if "mapping values are not allowed" in text:
        return _('a value that holds ": " goes in quotes, e.g. title: "Avviso: chiusura del ponte"')
    if "quoted scalar" in text:
        return _("a quote (\" or \') is opened and never closed")
    return None


def _place(node: yaml.Node, line_offset: int) -> Place:
    style = getattr(node, "style", None)
    return Place(node.start_mark.line + 1 + line_offset, node.start_mark.column + 1, style)


def _build(
    loader: Any,
    node: yaml.Node,
    path: Path_,
    positions: Positions,
    budget: list[Any],
    line_offset: int,
) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        # Point at the top-level key whose value blew up, not at a node deep inside an alias.
        where = budget[1] if len(budget) > 1 else _place(node, line_offset)
        raise YamlProblem(
            _("YAML expands to more than {n} values (too many aliases?)").format(n=MAX_NODES),
            where.line,
            where.column,
        )
    positions.values.setdefault(path, _place(node, line_offset))
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_COLLECTIONS:
        raise YamlProblem(
            _unsupported_tag(node.tag),
            node.start_mark.line + 1 + line_offset,
            node.start_mark.column + 1,
        )
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem(
                    _("mapping keys must be plain values"),
                    key_node.start_mark.line + 1 + line_offset,
                    key_node.start_mark.column + 1,
                )
            key = loader.construct_object(key_node)
            if key == "<<":
                raise YamlProblem(
                    _("YAML merge keys (<<) are not supported; write the keys out"),
                    key_node.start_mark.line + 1 + line_offset,
                    key_node.start_mark.column + 1,
                )
            if key in result:
                raise YamlProblem(
                    _("duplicate key {key!r}").format(key=key),
                    key_node.start_mark.line + 1 + line_offset,
                    key_node.start_mark.column + 1,
                )
            child = (*path, key)
            positions.keys[child] = _place(key_node, line_offset)
            if not path:
                budget[1:] = [positions.keys[child]]
            result[key] = _build(loader, value_node, child, positions, budget, line_offset)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*path, i), positions, budget, line_offset)
            for i, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node)
    except yaml.constructor.ConstructorError as exc:
        raise YamlProblem(
            _unsupported_tag(node.tag),
            node.start_mark.line + 1 + line_offset,
            node.start_mark.column + 1,
        ) from exc


def _unsupported_tag(tag: str) -> str:
    return _(
        "unsupported YAML tag {tag!r}: only plain text, numbers, dates, lists and maps are allowed"
    ).format(tag=tag)


_BREAKS = "\r\n"
#: Lengths of the double-quoted escapes longer than two characters.
_ESCAPE_LENGTHS = {"x": 4, "u": 6, "U": 10}


def _written(source: str, start: int, style: str | None) -> list[tuple[str | None, int]]:
    """(character, offset) of a scalar as written from `start`; None for an escape sequence.

    Block scalars run to the end of `source` (the caller stops when the value is consumed).
    """
    out: list[tuple[str | None, int]] = []
    k = start
    if style in ("|", ">"):
        k = source.find("\n", start) + 1  # content starts on the line after the indicator
        if k == 0:
            return out
    elif style in ("'", '"'):
        k += 1
    n = len(source)
    while k < n:
        ch = source[k]
        if style == '"':
            if ch == '"':
                break
            if ch == "\\" and k + 1 < n:
                nxt = source[k + 1]
                if nxt in _BREAKS:  # an escaped line break writes nothing
                    k += 3 if source[k + 1 : k + 3] == "\r\n" else 2
                    continue
                out.append((None, k))
                k += _ESCAPE_LENGTHS.get(nxt, 2)
                continue
        elif style == "'" and ch == "'":
            if source[k + 1 : k + 2] != "'":
                break
            out.append(("'", k))
            k += 2
            continue
        out.append((ch, k))
        k += 1
    return out


def scalar_places(source: str, place: Place, value: str) -> list[tuple[int, int]] | None:
    """The 1-based file (line, column) of every character of `value`, a scalar written at `place`.

    Folding, indentation, quotes and escapes move a scalar's characters away from where its start
    plus an offset would put them; this walks the written scalar alongside its value. None when
    the two cannot be aligned.
    """
    starts = [0]
    at = source.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = source.find("\n", at + 1)
    if not 1 <= place.line <= len(starts):
        return None
    written = _written(source, starts[place.line - 1] + place.column - 1, place.style)
    offsets: list[int] = []
    k = 0
    blank = " \t\r\n"
    for ch in value:
        here = written[k][0] if k < len(written) else ""
        if ch in blank:
            # Written as is, or made by folding a line break: either way the next written
            # character, when it is blank too, is where it comes from.
            if k < len(written) and (here is None or here in blank):
                offsets.append(written[k][1])
                k += 1
            else:
                offsets.append(written[min(k, len(written) - 1)][1] if written else 0)
            continue
        while here is not None and here != "" and here in blank:
            k += 1  # indentation and line breaks the value folded away
            here = written[k][0] if k < len(written) else ""
        if here == "" or (here is not None and here != ch):
            return None
        offsets.append(written[k][1])
        k += 1
    places = []
    line = 0
    for offset in offsets:
        while line + 1 < len(starts) and starts[line + 1] <= offset:
            line += 1
        places.append((line + 1, offset - starts[line] + 1))
    return places
