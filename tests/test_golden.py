"""Golden submissions, graded end to end through the real sandbox (zygote, locked-down child, judge).

Each tests/golden/<case>/ holds submission.py and expected.json; the result is compared on its stable
fields: verdict, error kind, check names and outcomes, pitfall ids (notes aside). One case per error
kind of the grading issue, plus the source article's two modules and a few telling failures.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from grader.grading.submit import bad_file, grade_source, read_submission

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.json").is_file())
# Generous for the cases that finish in ~0.1 s, so a loaded machine does not turn them into timeouts;
# the timeout case sets its own short deadline in expected.json.
DEADLINE_S = 20.0


def stable(result) -> dict:
    return {
        "task": result.task,
        "verdict": result.verdict,
        "error": result.error.kind if result.error else None,
        "checks": {c.name: c.passed for c in result.checks},
        "pitfalls": sorted(p.id for p in result.pitfalls if p.severity != "note"),
    }


def test_every_error_kind_has_a_case():
    kinds = {json.loads((GOLDEN / c / "expected.json").read_text())["error"] for c in CASES}
    assert {"syntax-error", "import-error", "missing-class", "constructor-error", "timeout", "memory-limit",
            "crashed", "output-limit", "bad-file"} <= kinds


@pytest.mark.parametrize("case", CASES)
def test_golden(case, sandbox, builtin_tasks):
    expected = json.loads((GOLDEN / case / "expected.json").read_text())
    deadline = expected.pop("deadline_s", DEADLINE_S)
    path = GOLDEN / case / "submission.py"
    source, problem = read_submission(path)
    started = time.monotonic()
    if problem:
        result = bad_file(path, expected["task"], problem)
    else:
        result = grade_source(source, path.name, builtin_tasks[expected["task"]], sandbox, deadline_s=deadline)
    assert stable(result) == expected
    assert time.monotonic() - started < deadline + 15  # the deadline holds, with room for the judge
    if result.error:
        assert result.error.message  # every error says what happened
