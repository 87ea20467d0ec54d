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
            if path + (part,) in self.lines:
                path += (part,)
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
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise SourceError([_syntax_problem(path, exc)]) from None
    except yaml.YAMLError as exc:
        raise SourceError([problem(path, 1, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    source = Source(data, {(): 1})
    duplicates: list[str] = []
    if node is not None:
        _record_lines(node, (), source.lines, duplicates, path)
    if duplicates:
        raise SourceError(duplicates)
    return source


def _syntax_problem(path: Path | str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    what = exc.problem or "syntax error"
    if exc.context:
        what = f"{what} ({exc.context})"
    return problem(path, line, f"YAML syntax error: {what}")


def _record_lines(node: yaml.Node, path: PathKey, lines: dict, duplicates: list, file) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = path + (key,)
            line = key_node.start_mark.line + 1
            if child in lines:
                duplicates.append(problem(file, line, f"duplicate key '{key}' (first on line {lines[child]})"))
                continue
            lines[child] = line
            _record_lines(value_node, child, lines, duplicates, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            _record_lines(item, path + (index,), lines, duplicates, file)


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
    kind, ctx = err["type"], err.get("ctx") or {}
    where = _field_name(err["loc"], source)
    if kind == "extra_forbidden":  # the field exists in the file: `where` ends with it
        return f"unknown field '{where or err['loc'][-1]}'"
    if kind == "missing":  # it does not: `where` is its parent
        return f"missing field '{where + '.' if where else ''}{err['loc'][-1]}'"
    if kind == "union_tag_not_found":
        return f"missing field {ctx.get('discriminator', 'type')}"
    if kind == "union_tag_invalid":
        return f"type: must be one of {_unquote(ctx.get('expected_tags', ''))}, not '{ctx.get('tag')}'"
    if kind == "literal_error":
        return f"{where}: must be one of {_unquote(ctx.get('expected', ''))}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where}: must be a mapping" if where else "must be a mapping"
    msg = err["msg"]
    msg = re.sub(r"^(Value|Assertion) error, ", "", msg)
    msg = re.sub(r"^Input should be", "must be", msg)
    msg = msg[:1].lower() + msg[1:]
    return f"{where}: {msg}" if where else msg


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
