"""Result types of a graded submission: plain dataclasses, no Rich, no torch.

Every output format (table, JSON, Gradescope, exercism) is a function of SubmissionResult
(see grader/grading/formats.py and grader/render.py). The judge builds it and sends it as JSON.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        data = dict(data)
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
