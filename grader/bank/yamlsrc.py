"""YAML read with PyYAML's safe loader, keeping the line of every key and list item, and pydantic
errors turned into `FILE:LINE: id=ID: message` lines.

Bank authors fix files by line number, so every problem has to point at a line: the loader records
one per path (("questions", 3, "answer") -> 42) and `validation_problems` maps pydantic's error
locations back onto them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

# The C parser is several times faster and records the same marks.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathKey = tuple  # a path into the data: mapping keys and list indexes


@dataclass
class Source:
    """Plain YAML data plus the line (1-based) of every key and list item, by path."""

    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def known_path(self, loc: tuple) -> PathKey:
        """The part of a pydantic error location that exists in the file. Other elements are
        skipped: pydantic puts the union tag (("questions", 0, "single", "answer")) and validator
        names into locs, and a missing field has no line of its own."""
        path: PathKey = ()
        for part in loc:
            # Lines are keyed by the key's text: `1: x` is recorded as "1", pydantic says 1.
            for candidate in (part, str(part)):
                if path + (candidate,) in self.lines:
                    path += (candidate,)
                    break
        return path

    def line_for(self, loc: tuple) -> int:
        """The line of the deepest known path along `loc` (a missing field: its parent's)."""
        return self.lines.get(self.known_path(loc), 1)


class SourceError(Exception):
    """A file that could not be read or parsed as YAML; `problems` holds its lines."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def problem(file: Path | str, line: int, message: str, qid: str | None = None) -> str:
    """One problem line, in the format every editor can jump to."""
    where = f"{file}:{line}: "
    return where + (f"id={qid}: " if qid else "") + message


def read(path: Path) -> Source:
    """Read and safe-load one YAML file, raising SourceError for unreadable, non-UTF-8 or
    syntactically broken files, and for YAML with duplicate keys (PyYAML silently keeps the last)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError([problem(path, 1, f"cannot read: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line})"
        raise SourceError([problem(path, 1, msg)]) from None
    return parse(text, path)


def parse(text: str, path: Path | str = "<string>") -> Source:
    """Safe-load YAML text (see `read`)."""
    loader = _Loader(text)
    try:
        too_deep = _nested_past_limit(text)
        if too_deep:
            raise SourceError([problem(path, too_deep, f"nested more than {MAX_DEPTH} levels deep")])
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise SourceError([_syntax_problem(path, exc)]) from None
    except yaml.reader.ReaderError as exc:  # a control character: PyYAML gives its offset only
        line = text.count("\n", 0, exc.position) + 1
        msg = f"control character U+{exc.character:04X} is not allowed in YAML"
        raise SourceError([problem(path, line, msg)]) from None
    except yaml.YAMLError as exc:
        raise SourceError([problem(path, 1, f"YAML error: {exc}")]) from None
    except RecursionError:
        raise SourceError([problem(path, 1, f"nested more than {MAX_DEPTH} levels deep")]) from None
    finally:
        loader.dispose()
    source = Source(data, {(): 1})
    if node is not None:
        _record_lines(node, source.lines, path)
    return source


# Hints for the syntax errors instructors meet most, keyed by a fragment of PyYAML's message.
_SYNTAX_HINTS = {
    "found character '\\t'": "indent with spaces, not tabs",
    "tab character": "indent with spaces, not tabs",
    "but found another document": "one YAML document per file: remove the `---` line and put every "
    "question under the one `questions:` list",
}


def _syntax_problem(path: Path | str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    what = exc.problem or "syntax error"
    if exc.context:
        what = f"{what} ({exc.context})"
    hints = [hint for fragment, hint in _SYNTAX_HINTS.items() if fragment in what]
    return problem(path, line, f"YAML syntax error: {what}" + (f"; {hints[0]}" if hints else ""))


# Real banks are a few levels deep and a few thousand nodes; these bounds stop junk and alias bombs
# ("billion laughs": aliases of aliases expand exponentially) before validation walks them.
MAX_DEPTH = 64
MAX_NODES = 200_000
# libyaml's composer (CSafeLoader) recurses in C, past Python's recursion limit: 30 000 nested `[`
# (30 KB of text) overflowed the stack and killed the process (a segfault); 10 000 did not. Each
# level takes a `[`, `{`, `-` or `?`, or else one more column of indentation than the last, so a
# text with fewer of those characters and under SAFE_LENGTH cannot come near (the shipped banks
# hold at most ~2900); past either bound, libyaml's parser (which keeps its own stack) counts the
# depth first.
SAFE_INDICATORS = 3000
SAFE_LENGTH = 8_000_000


def _nested_past_limit(text: str) -> int:
    """The line where the text nests past MAX_DEPTH, or 0."""
    if sum(map(text.count, "[{-?")) < SAFE_INDICATORS and len(text) < SAFE_LENGTH:
        return 0
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark.line + 1
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
    return 0


def _record_lines(root: yaml.Node, lines: dict, file) -> None:
    """Record the line of every key and item, walking the tree as aliases expand it (validation sees
    the same expansion); SourceError for duplicate keys (PyYAML silently keeps the last), too deep
    nesting or too many nodes."""
    duplicates: list[tuple[int, str]] = []
    stack: list[tuple[yaml.Node, PathKey]] = [(root, ())]
    visited = 0
    while stack:
        node, path = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            raise SourceError([problem(file, 1, f"more than {MAX_NODES} YAML nodes (after expanding aliases)")])
        if len(path) > MAX_DEPTH:
            line = node.start_mark.line + 1
            raise SourceError([problem(file, line, f"nested more than {MAX_DEPTH} levels deep")])
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                child = path + (key,)
                line = key_node.start_mark.line + 1
                if child in lines:
                    duplicates.append((line, f"duplicate key '{key}' (first on line {lines[child]})"))
                    continue
                lines[child] = line
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[path + (index,)] = item.start_mark.line + 1
                stack.append((item, path + (index,)))
    if duplicates:
        raise SourceError([problem(file, line, msg) for line, msg in sorted(duplicates)])


def validation_problems(file: Path | str, source: Source, exc: ValidationError) -> list[str]:
    """Every pydantic error as one short, human line pointing at its line and question id."""
    found = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        found.append((source.line_for(loc), _message(err, source), _owner_id(source.data, loc)))
    return [problem(file, line, msg, qid) for line, msg, qid in sorted(found, key=lambda f: f[0])]


def _owner_id(data: Any, loc: tuple) -> str | None:
    """The id of the first mapping along `loc` (below the top level) that has one: the question
    (or task) the error belongs to."""
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            return node["id"]
    return None


def _message(err: dict, source: Source) -> str:
    kind, ctx, given = err["type"], err.get("ctx") or {}, err.get("input")
    where = _field_name(err["loc"], source)
    if kind == "extra_forbidden":  # the field exists in the file: `where` ends with it
        return f"unknown field '{where or err['loc'][-1]}'"
    if kind == "missing":  # it does not: `where` is its parent
        return f"missing field '{where + '.' if where else ''}{err['loc'][-1]}'"
    if kind == "invalid_key":
        return f"{where}: a field name must be text, not {_shown(given)}"
    if kind == "union_tag_not_found":
        return f"missing field {ctx.get('discriminator', 'type')}"
    if kind == "union_tag_invalid":
        return f"type: must be one of {_unquote(ctx.get('expected_tags', ''))}, not '{ctx.get('tag')}'"
    if kind == "literal_error":
        return f"{where}: must be one of {_unquote(ctx.get('expected', ''))}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        # `- hello` as a question: no field inside it to name, so name its place in the file.
        return _not_a_mapping(where or _place(err["loc"], source), ctx.get("class_name"), given)
    if given is None and kind.endswith("_type"):
        return f"{where}: is empty" if where else "is empty"
    if kind == "string_type" and isinstance(given, (bool, int, float)):
        # YAML turned the author's text into another type: yes -> true, 1e-5 stays text, 12 -> 12.
        what = "true/false" if isinstance(given, bool) else "a number"
        return f"{where}: must be text, but YAML reads {_shown(given)} as {what} (put it in quotes)"
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        return f"{where}: needs {bound} {limit} item{'s' * (limit != 1)}, has {ctx.get('actual_length')}"
    msg = err["msg"]
    msg = re.sub(r"^(Value|Assertion) error, ", "", msg)
    msg = re.sub(r"^Input should be", "must be", msg)
    msg = msg[:1].lower() + msg[1:]
    return f"{where}: {msg}" if where else msg


def _not_a_mapping(where: str, model: str | None, given: Any) -> str:
    """A mapping expected: say what the file holds instead, and for text fields what to write."""
    name = where or "this"
    got = "is empty" if given is None else f"must be a mapping, not {_shown(given)}"
    if model == "Text":
        return f"{name}: {got} (write text as {{en: ..., zh: ...}}; either language may be left out)"
    return f"{name}: {got}"


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _place(loc: tuple, source: Source) -> str:
    """A path in the file as an author reads it: questions[3].rubric[0]."""
    text = ""
    for part in source.known_path(loc):
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _field_name(loc: tuple, source: Source) -> str:
    """The field's name inside its question or task, e.g. rubric[1].match.en: the owner's own path,
    union tags and validator names are left out. An error above any question (the `questions`
    list itself) names the top-level field."""
    path = source.known_path(loc)
    owner_depth = {"questions": 2, "task": 1}.get(path[0], 0) if path else 0
    if len(path) < owner_depth:
        owner_depth = 0
    parts: list[str] = []
    for part in path[owner_depth:]:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts)


def _unquote(expected: str) -> str:
    """"'easy', 'medium' or 'hard'" -> "easy, medium, hard"."""
    return ", ".join(re.findall(r"'([^']*)'", expected)) or expected
