"""Machine-readable reports, each a function of the same SubmissionResult: dlprep's own JSON,
Gradescope's results.json and exercism's results.json (version 3). The table lives in
grader/render/submit.py (the only place that imports Rich).
"""
from __future__ import annotations

import json
import math

from grader.results import CheckResult, SubmissionResult, json_safe, number_text

FORMATS = ("table", "json", "gradescope", "exercism")
# exercism's runner spec caps a test's output at 500 characters.
EXERCISM_OUTPUT_MAX = 500
# The top-level keys of Gradescope's results.json specification; anything else is not read there.
GRADESCOPE_KEYS = ("score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                   "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard")
JSON_KEYS = ("task", "file", "verdict", "score", "max_score", "checks", "pitfalls", "error", "duration_s", "output")
JSON_CHECK_FIELDS = ("name", "kind", "hidden", "passed", "message", "max_abs_err", "max_rel_err")


def render(result: SubmissionResult, fmt: str) -> str:
    return {"json": to_json, "gradescope": to_gradescope, "exercism": to_exercism}[fmt](result)


def _dumps(doc: dict) -> str:
    """Strict JSON, exact strings: C0 controls escaped by json, C1 and bidi controls by json_safe."""
    return json_safe(_strict(doc, indent=2))


def _strict(value, indent: int | None = None) -> str:
    """json.dumps, strict; NaN and inf (rare) as null, found by json itself rather than by a walk
    of every value first."""
    try:
        return json.dumps(value, ensure_ascii=False, indent=indent, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), ensure_ascii=False, indent=indent, allow_nan=False)


def _finite(value):
    """Strict JSON: NaN and inf become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def to_json(result: SubmissionResult) -> str:
    """The schema of the grading issue; public checks also carry their worst elements."""
    return _dumps(json_doc(result))


def json_doc(result: SubmissionResult) -> dict:
    """to_json's document before it is written (a batch report holds one per submission)."""
    doc = result.to_dict(checks=False)
    doc["checks"] = [_check_json(c) for c in result.checks]
    return {key: doc[key] for key in JSON_KEYS}  # the checks in their place, after max_score


def dumps(doc: dict) -> str:
    """Any report document as dlprep writes JSON: strict, NaN and inf as null, controls escaped."""
    return _dumps(doc)


def dumps_listed(doc: dict, key: str) -> str:
    """dumps, except that the list under `key` has one item per line, each on a line of its own
    (a batch's submissions): json's C encoder writes those, where indent forces its Python one
    (a JSON report of 200 submissions spent 0.35 s there), and a diff or grep shows one
    submission per line."""
    parts = []
    for name, value in doc.items():
        if name == key:
            items = ",\n".join("    " + _strict(item) for item in value)
            text = f"[\n{items}\n  ]" if items else "[]"
        else:
            text = _strict(value, indent=2).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(name, ensure_ascii=False)}: {text}")
    return json_safe("{\n" + ",\n".join(parts) + "\n}")


def _check_json(check: CheckResult) -> dict:
    data = {f: getattr(check, f) for f in JSON_CHECK_FIELDS}
    data["points"] = check.points
    if not check.hidden and not check.passed and check.worst:
        data.update(shape=check.shape, mismatched=check.mismatched, total=check.total,
                    worst=[{"index": m.index, "got": m.got, "expected": m.expected} for m in check.worst])
    return data


def check_output(check: CheckResult) -> str:
    """A check's text for a test in another system's report: the message and, for a failed public
    check, its worst elements."""
    lines = [check.message] if check.message else []
    if check.example:
        lines.append(f"example: {check.example}")
    if check.max_abs_err is not None:
        lines.append(f"max abs error {check.max_abs_err:.3g}, max rel error {check.max_rel_err:.3g}")
    if not check.hidden and not check.passed and check.worst:
        lines.append(f"Mismatched elements: {check.mismatched} / {check.total}")
        lines += [f"  index {tuple(m.index)}: got {number_text(m.got)}, expected {number_text(m.expected)}"
                  for m in check.worst]
    return "\n".join(lines)


def _summary(result: SubmissionResult) -> str:
    """What a whole-report `output` says: the error, or the pitfalls with their fixes."""
    if result.error:
        return f"{result.error.kind}: {result.error.message}"
    lines = [f"{result.verdict}: {result.score:g} / {result.max_score:g}"]
    for p in result.pitfalls:
        fix = f" Fix: {p.fix}" if p.fix else ""
        lines.append(f"[{p.severity}] {p.id}: {p.title}. {p.explanation}{fix}")
    return "\n".join(lines)


def to_gradescope(result: SubmissionResult) -> str:
    """Gradescope's autograder results.json: hidden checks become visible after grades are
    published, so learners do not probe the hidden inputs one submission at a time. Top-level keys
    are Gradescope's documented ones only (GRADESCOPE_KEYS): it has no top-level max_score (the
    assignment's points are set on Gradescope; each test carries its own max_score)."""
    tests = [
        {
            "name": c.name,
            "score": c.points if c.passed else 0.0,
            "max_score": c.points,
            "status": "passed" if c.passed else "failed",
            "output": check_output(c),
            "visibility": "after_published" if c.hidden else "visible",
        }
        for c in result.checks
    ]
    output = _summary(result)
    if result.output:
        output += "\n\nYour code's output:\n" + result.output
    doc = {"score": result.score, "output": output, "visibility": "visible", "tests": tests,
           "execution_time": result.duration_s}
    return _dumps(doc)


def to_exercism(result: SubmissionResult) -> str:
    """exercism's results.json, version 3: status pass | fail | error; `message` only on error."""
    doc: dict = {"version": 3, "status": {"pass": "pass", "fail": "fail"}.get(result.verdict, "error")}
    if result.verdict == "error":
        doc["message"] = _summary(result)
    tests = []
    for c in result.checks:
        test = {"name": c.name, "status": "pass" if c.passed else "fail", "test_code": f"{c.kind} check {c.name}"}
        if not c.passed:
            test["message"] = check_output(c)
        if result.output:
            test["output"] = _clip(result.output, EXERCISM_OUTPUT_MAX)
        tests.append(test)
    if result.pitfalls and tests:  # v3 has no place for them: the first failed test carries them
        target = next((t for t in tests if t["status"] == "fail"), tests[0])
        target["message"] = (target.get("message", "") + "\n" + _summary(result)).strip()
    doc["tests"] = tests
    return _dumps(doc)


def _clip(text: str, limit: int) -> str:
    notice = "... [clipped]"
    return text if len(text) <= limit else text[: limit - len(notice)] + notice
