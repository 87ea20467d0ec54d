"""Red-team submissions, written the way learners and attackers write them, graded end to end through
one shared sandbox (zygote, locked-down child, judge).

tests/redteam/<task>/<expectation>--<style>.py, where the expectation is
  correct            passes, with nothing of severity error or warning named (notes are fine);
  <id>[+<id>...]     fails (passes for notes only), naming every listed pitfall with evidence;
  error-<kind>       verdict error of that kind (missing-class, syntax-error, ...);
  hostile            never passes, ends within a bound, leaves no file and no process behind; the
                     error kind it must earn, where one applies, is in HOSTILE_KIND.
Files are read as `dlprep submit` reads them (grader.grading.submit.read_submission: a BOM is dropped).
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from grader.grading import forbidden
from grader.pitfalls import registry
from grader.grading.submit import MAX_SOURCE_BYTES, bad_file, grade_source, read_submission
from test_hostile import leftovers, zygote_family

REDTEAM = Path(__file__).parent / "redteam"
TASKS = ("layernorm", "residual-block", "rmsnorm")
HOSTILE_DEADLINE_S = 3.0
# Generous for honest cases (most take ~0.1 s; torch.compile's import ~2 s), so that a loaded
# machine does not turn them into timeouts.
DEADLINE_S = 20.0
BOUND_S = 15.0  # the deadline, the judge and a loaded 2-core machine
TRACE = "dlprep-redteam"  # every file an attack tries to leave starts with this
TRACE_DIRS = (Path("/tmp"), Path("/dev/shm"), Path.home(), Path.cwd())
HOSTILE_KIND = {
    "thread-storm": "timeout", "sleep-in-del": "timeout", "deep-recursion-at-import": "timeout",
    "signal-alarm": "crashed", "system-exit-in-init": "crashed", "corrupt-answer": "crashed",
    "forge-huge-frame": "output-limit", "stdout-into-answer-pipe": "output-limit",
    "forge-deep-json": "crashed", "forge-nested-meta": "crashed",
    "dev-shm": "import-error", "read-etc-passwd": "import-error", "subprocess-run": "import-error",
    "kill-parent": "import-error", "pkgutil-get-data": "import-error", "find-spec-origin": "import-error",
    "importlib-resources-task": "import-error",
}
# Whatever the recursion at import ends in (the deadline, the stack, the memory bound), it is an error.
ANY_ERROR = {"deep-recursion-at-import"}


def _cases(kind) -> list:
    return [pytest.param(task, path, id=f"{task}/{path.stem}") for task in TASKS
            for path in sorted((REDTEAM / task).glob("*.py")) if kind(path.stem.split("--")[0])]


CORRECT = _cases(lambda head: head == "correct")
MISTAKES = _cases(lambda head: head not in ("correct", "hostile") and not head.startswith("error-"))
ERRORS = _cases(lambda head: head.startswith("error-"))
HOSTILE = _cases(lambda head: head == "hostile")


@pytest.fixture(scope="module")
def grade(sandbox, builtin_tasks):
    def run(task: str, path: Path, deadline_s: float = DEADLINE_S):
        source, problem = read_submission(path)
        if problem:
            return bad_file(path, task, problem)
        return grade_source(source, path.name, builtin_tasks[task], sandbox, deadline_s=deadline_s)

    return run


def _named(result) -> dict[str, str]:
    return {p.id: p.evidence for p in result.pitfalls}


def _traces() -> set[str]:
    return {str(p) for d in TRACE_DIRS if d.is_dir() for p in d.iterdir() if p.name.startswith(TRACE)}


def test_there_are_cases_of_every_kind():
    assert len(CORRECT) >= 20 and len(MISTAKES) >= 25 and len(HOSTILE) >= 30 and len(ERRORS) >= 4
    hostile_names = {path.stem.split("--", 1)[1] for _, path in (case.values for case in HOSTILE)}
    assert set(HOSTILE_KIND) <= hostile_names  # no expectation left without its file


@pytest.mark.parametrize("task, path", CORRECT)
def test_correct_submission_passes_without_alarm(grade, task, path):
    result = grade(task, path)
    assert result.verdict == "pass", (result.error, [(c.name, c.message) for c in result.checks if not c.passed])
    assert [(p.id, p.evidence) for p in result.pitfalls if p.severity != "note"] == []


@pytest.mark.parametrize("task, path", MISTAKES)
def test_mistake_is_named_with_evidence(grade, task, path):
    ids = path.stem.split("--")[0].split("+")
    result = grade(task, path)
    named = _named(result)
    assert set(ids) <= set(named), [(p.id, p.evidence) for p in result.pitfalls]
    assert all(named[i] for i in ids)
    notes_only = all(registry.get(i).severity == "note" for i in ids)
    assert result.verdict == ("pass" if notes_only else "fail")


@pytest.mark.parametrize("task, path", ERRORS)
def test_unusable_submission_is_an_error_of_its_kind(grade, task, path):
    kind = path.stem.split("--")[0].removeprefix("error-")
    result = grade(task, path)
    assert result.verdict == "error" and result.error.kind == kind, result.error
    assert result.error.message


@pytest.mark.parametrize("task, path", HOSTILE)
def test_hostile_submission_fails_bounded_and_leaves_nothing(grade, sandbox, task, path):
    name = path.stem.split("--", 1)[1]
    before = _traces()
    sandbox.layers()  # the zygote is up
    family = zygote_family(sandbox)
    started = time.monotonic()
    result = grade(task, path, deadline_s=HOSTILE_DEADLINE_S)
    assert time.monotonic() - started < BOUND_S
    assert result.verdict != "pass", result
    if name in ANY_ERROR:
        assert result.verdict == "error"
    elif name in HOSTILE_KIND:
        assert result.error is not None and result.error.kind == HOSTILE_KIND[name], result.error
    assert _traces() == before
    assert leftovers(sandbox, family) == []


def test_a_file_over_the_size_limit_is_a_bad_file(tmp_path):
    path = tmp_path / "big.py"
    body = (REDTEAM / "layernorm" / "correct--var-mean-correction0.py").read_text()
    path.write_text(body + ("#" * 79 + "\n") * (2 * MAX_SOURCE_BYTES // 80))  # a 2 MB file
    source, problem = read_submission(path)
    assert source == "" and "at most" in problem


def test_a_large_file_under_the_limit_is_graded(grade, tmp_path):
    path = tmp_path / "padded.py"
    body = (REDTEAM / "layernorm" / "correct--var-mean-correction0.py").read_text()
    path.write_text(body + ("# " + "x" * 77 + "\n") * ((MAX_SOURCE_BYTES - len(body)) // 80 - 1))
    assert grade("layernorm", path).verdict == "pass"


# ---- the static tripwires on their own (no sandbox) --------------------------------------------
NAMES = ["LayerNorm", "layer_norm"]


def test_a_main_block_may_compare_with_torch_but_its_else_branch_may_not():
    main = 'import torch\nif __name__ == "__main__":\n    ref = torch.nn.LayerNorm(8)\n'
    assert forbidden.scan(main, NAMES) == []
    assert forbidden.scan(main + "else:\n    f = torch.nn.functional.layer_norm\n", NAMES)[0].line == 5


def test_a_main_block_counts_when_the_file_rebinds_its_name():
    source = 'import torch\n__name__ = "__main__"\nif __name__ == "__main__":\n    ref = torch.nn.LayerNorm(8)\n'
    assert [f.line for f in forbidden.scan(source, NAMES)] == [4]


@pytest.mark.parametrize("source", [
    "import grader.grading.runner\n",
    "import sys\nr = sys.modules['grader.grading.runner']\n",
    "import torch\nm = torch._C._pop_torch_dispatch_stack()\n",
    "from torch.utils._python_dispatch import _pop_mode_temporarily\n",
])
def test_reaching_for_the_grader_or_the_op_trace_is_flagged(source):
    assert [f.name for f in forbidden.scan(source, NAMES)] == [forbidden.TAMPERING]


def test_prose_about_the_grader_is_not_flagged():
    source = '"""grader.grading.runner imports this file."""\nimport torch\n'
    assert forbidden.scan(source, NAMES) == []
    assert forbidden.scan("import grader\n", []) == []  # nothing forbidden: nothing to hide


def test_the_judge_refuses_a_forged_tensor_header_unread():
    """A header listing ~100k tensors would take the judge seconds to load: it counts as no answer."""
    import json
    import struct

    from grader.grading.judge import MAX_TENSOR_HEADER, _parse_tensors

    n = MAX_TENSOR_HEADER // 60
    header = json.dumps({f"t{i}": {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]}
                         for i in range(n)}).encode()
    assert len(header) > MAX_TENSOR_HEADER
    started = time.monotonic()
    assert _parse_tensors(struct.pack("<Q", len(header)) + header + b"\0" * (4 * n)) == {}
    assert time.monotonic() - started < 0.5
