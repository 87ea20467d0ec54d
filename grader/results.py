"""Result types of a graded submission: plain dataclasses, no Rich, no torch.

Every output format (table, JSON, Gradescope, exercism) is a function of SubmissionResult
(see grader/grading/formats.py and grader/render.py). The judge builds it and sends it as JSON.

Much of a result's text comes from the submission (its output, exception messages, parameter
names), so it may hold terminal escapes or bidi overrides. `visible` (for everything a human reads:
the table, and later markdown, JUnit, CSV, HTML) and `json_safe` (for JSON) are the one place that
makes such text harmless; every renderer goes through them. `encodable` comes first: a result read
back (from the judge or the cache) and a file name hold only text that encodes as UTF-8.
"""
from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Literal

# C0 controls but newline and tab, DEL, C1 controls (ESC and CSI above all: they move the cursor,
# recolour, clear the screen, set the title or the clipboard); then the Unicode format characters
# (bidi embeddings, overrides and isolates, zero-width characters, the BOM, invisible operators)
# and the line/paragraph separators, which reorder or hide what a reader sees.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_FORMAT = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
           "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
           "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_UNSAFE = re.compile(f"[{_CONTROLS}{_FORMAT}]")
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_FORMAT}]")  # json.dumps escapes C0 itself


# Code points no UTF-8 text may hold: a file name's undecodable byte (os.fsdecode's surrogate
# escape, U+DC80-U+DCFF) and any lone surrogate an exception message built with chr().
_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """Text that encodes as UTF-8, as every report, the results cache and the terminal need: a file
    name's undecodable byte written as \\xNN (`bad\\xffname.py`), any other surrogate as \\uXXXX. One
    student's Windows-encoded file name, or a message holding chr(0xD800), ended a whole batch as
    dlprep's internal error when the first report or cache entry was written."""
    if not isinstance(text, str) or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xdc00:02x}" if "\udc80" <= m.group() <= "\udcff"
                          else f"\\u{ord(m.group()):04x}", text)


def _encodable_all(value):
    """Every string in a JSON-shaped value (dict keys too) made encodable; the value itself when
    none needs it (the usual case, found without copying: a cached regrade reads ~200 results)."""
    return _encodable_copy(value) if _needs_escapes(value) else value


def _needs_escapes(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            if not item.isascii() and _SURROGATE.search(item):
                return True
        elif type(item) is dict:
            stack += item.keys()
            stack += item.values()
        elif type(item) is list:
            stack += item
    return False


def _encodable_copy(value):
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, list):
        return [_encodable_copy(v) for v in value]
    if isinstance(value, dict):
        return {_encodable_copy(k): _encodable_copy(v) for k, v in value.items()}
    return value


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    """Text as a human-read report may show it: each control or format character written out as
    its escape (ESC becomes the four characters \\x1b), so it is seen instead of obeyed."""
    return _UNSAFE.sub(_escape, text) if isinstance(text, str) else text


def json_safe(text: str) -> str:
    """A JSON document (json.dumps(..., ensure_ascii=False)) with the characters json leaves raw
    that a terminal or a bidi-aware viewer would obey, written as \\uXXXX escapes: parsing gives
    back exactly the same strings."""
    return _JSON_UNSAFE.sub(lambda m: "".join(f"\\u{u:04x}" for u in _utf16(m.group())), text)


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def displayed(value):
    """A copy of a result (or any dataclass, list, dict, str) with every string passed through
    `visible`: what the table renderer (and every later human-read format) draws from."""
    if isinstance(value, str):
        return visible(value)
    if is_dataclass(value) and not isinstance(value, type):
        clone = copy.copy(value)
        for f in fields(value):
            setattr(clone, f.name, displayed(getattr(value, f.name)))
        return clone
    if isinstance(value, list):
        return [displayed(v) for v in value]
    if isinstance(value, tuple):
        return tuple(displayed(v) for v in value)
    if isinstance(value, dict):
        return {displayed(k): displayed(v) for k, v in value.items()}
    return value

CheckKind = Literal[
    "structure", "init", "forward", "backward", "input-unchanged", "dtype-shape", "forbidden-ops"
]
Severity = Literal["error", "warning", "note"]
Verdict = Literal["pass", "fail", "error"]
ErrorKind = Literal[
    "syntax-error",
    "import-error",
    "missing-class",
    "constructor-error",
    "timeout",
    "memory-limit",
    "crashed",
    "output-limit",
    "bad-file",
    "internal-error",  # dlprep's own fault while judging (exit 3 for submit); never the submission's
]


@dataclass
class Mismatch:
    """One of the worst elements of a failed public check (pytest.approx order)."""

    index: list[int]
    got: float | None
    expected: float | None


def number_text(value: float | None) -> str:
    """A Mismatch value as text: None stands for NaN or inf, which JSON cannot carry."""
    return "nan" if value is None else f"{value:.6g}"


@dataclass
class CheckResult:
    name: str
    kind: str  # a CheckKind; more may be added
    hidden: bool
    passed: bool
    message: str = ""
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    points: float = 1.0
    # Only for public checks, shown on failure: the construction and input, the shape and the
    # worst elements.
    example: str | None = None
    shape: list[int] | None = None
    mismatched: int | None = None  # k of "Mismatched elements: k / n"
    total: int | None = None  # n
    worst: list[Mismatch] = field(default_factory=list)


def _check_dict(check: CheckResult) -> dict:
    doc = {name: getattr(check, name) for name in _CHECK_SCALARS}
    doc["shape"] = None if check.shape is None else list(check.shape)
    doc["mismatched"], doc["total"] = check.mismatched, check.total
    doc["worst"] = [{"index": list(m.index), "got": m.got, "expected": m.expected} for m in check.worst]
    return doc


_CHECK_SCALARS = ("name", "kind", "hidden", "passed", "message", "max_abs_err", "max_rel_err", "points", "example")


@dataclass
class PitfallResult:
    id: str
    severity: Severity
    title: str
    explanation: str
    fix: str
    evidence: str


@dataclass
class ErrorInfo:
    kind: str  # an ErrorKind
    message: str


@dataclass
class SubmissionResult:
    task: str
    file: str
    verdict: Verdict
    score: float
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    pitfalls: list[PitfallResult] = field(default_factory=list)
    error: ErrorInfo | None = None
    duration_s: float = 0.0
    output: str = ""  # the submission's captured stdout/stderr, clipped; shown, never parsed

    def to_dict(self, checks: bool = True) -> dict:
        """asdict's result, written out: asdict's generic deep copy took ~1 ms a result, paid in
        the judge, the cache and every report (a batch's JSON report of 200 spent 0.4 s there).
        checks=False leaves the checks out (a report that writes its own)."""
        doc = {"task": self.task, "file": self.file, "verdict": self.verdict, "score": self.score,
               "max_score": self.max_score}
        if checks:
            doc["checks"] = [_check_dict(c) for c in self.checks]
        doc.update(pitfalls=[{"id": p.id, "severity": p.severity, "title": p.title, "explanation": p.explanation,
                              "fix": p.fix, "evidence": p.evidence} for p in self.pitfalls],
                   error=None if self.error is None else {"kind": self.error.kind, "message": self.error.message},
                   duration_s=self.duration_s, output=self.output)
        return doc

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        """From the judge's answer or a cache entry: every string made encodable (the submission's
        exception messages and names reach them)."""
        data = _encodable_all(dict(data))
        checks = []
        for c in data.pop("checks", []):
            c = dict(c)
            c["worst"] = [Mismatch(**m) for m in c.get("worst", [])]
            checks.append(CheckResult(**c))
        pitfalls = [PitfallResult(**p) for p in data.pop("pitfalls", [])]
        error = data.pop("error", None)
        return cls(
            checks=checks,
            pitfalls=pitfalls,
            error=ErrorInfo(**error) if error else None,
            **data,
        )


@dataclass
class NamedResult:
    """One submission of a batch: its name (the student's file or folder name, made distinct) and
    its report."""

    name: str
    result: SubmissionResult


@dataclass
class BatchResult:
    """A class's submissions graded against one task (`dlprep grade`), in the order they were found.
    Every batch report (json, csv, junit, markdown, html, the terminal summary) is a function of it.
    `partial`: the batch was stopped (Ctrl-C) and only the submissions that finished are here."""

    task: str
    dlprep_version: str
    submissions: list[NamedResult] = field(default_factory=list)
    partial: bool = False

    @property
    def max_score(self) -> float:
        """The task's points: every judged submission carries them (a bad file carries none)."""
        return max((s.result.max_score for s in self.submissions), default=0.0)

    def pitfall_counts(self) -> list[tuple[PitfallResult, int]]:
        """Each pitfall with how many submissions have it, most common first (then by id): what to
        teach again. The PitfallResult is the first submission's, in the batch's language."""
        first: dict[str, PitfallResult] = {}
        counts: dict[str, int] = {}
        for s in self.submissions:
            for p in s.result.pitfalls:
                first.setdefault(p.id, p)
            for pid in {p.id for p in s.result.pitfalls}:  # a submission counts once per pitfall
                counts[pid] = counts.get(pid, 0) + 1
        return sorted(((first[i], n) for i, n in counts.items()), key=lambda pn: (-pn[1], pn[0].id))

    def histogram(self, bins: int = 10) -> list[int]:
        """How many submissions scored in each tenth (by default) of the task's points, [0, 10%) up
        to [90%, 100%] (full marks in the last). Errors count at 0."""
        top = self.max_score
        counts = [0] * bins
        for s in self.submissions:
            share = s.result.score / top if top > 0 else 0.0
            counts[min(bins - 1, max(0, int(share * bins)))] += 1
        return counts

    def summary(self) -> dict:
        verdicts = [s.result.verdict for s in self.submissions]
        count = len(verdicts)
        return {
            "count": count,
            "passed": verdicts.count("pass"),
            "failed": verdicts.count("fail"),
            "errors": verdicts.count("error"),
            "max_score": self.max_score,
            "mean_score": round(sum(s.result.score for s in self.submissions) / count, 4) if count else 0.0,
            "pitfalls": {p.id: n for p, n in self.pitfall_counts()},
            "partial": self.partial,
        }

