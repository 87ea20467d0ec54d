"""Function tasks (grader/grading/functiontask.py, functionchecks.py) and the layernorm-backward task.

A torch.autograd.Function is graded through its apply as the module around it: outputs and the
gradients of x, weight and bias against a float64 reference, torch.autograd.gradcheck in the child,
and autograd inside the Function forbidden, by name (forbidden.autograd_uses) and by a run of
autograd's engine or an output of autograd's own node seen at run time. Red-team files live in
tests/redteam/layernorm-backward/ (named as in tests/test_redteam.py); the routes around the
static names are graded there, their static blindness pinned here.
"""
from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest
import torch
import yaml
from pydantic import ValidationError

from grader.bank.taskspec import TaskFile
from grader.grading import answer, forbidden, functiontask, wording
from grader.grading.checks import plan
from grader.grading.submit import grade_source, read_submission
from grader.pitfalls import registry

ROOT = Path(__file__).resolve().parent.parent
REDTEAM = ROOT / "tests" / "redteam" / "layernorm-backward"
TASK_FILE = ROOT / "questions" / "tasks" / "layernorm-backward.yaml"
CASES = sorted(REDTEAM.glob("*.py"))


def _raw() -> dict:
    return yaml.safe_load(TASK_FILE.read_text(encoding="utf-8"))


# ---- the reference's derivation, against autograd (no sandbox) -----------------------------------
@pytest.mark.parametrize("shape", [(7,), (3, 7), (2, 3, 7)])
def test_the_reference_backward_is_layer_norms_derivative(shape):
    from grader.references.layernorm_backward import LayerNormFunction

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=gen, dtype=torch.float64, requires_grad=True)
    w = (1 + 0.5 * torch.randn(7, generator=gen, dtype=torch.float64)).requires_grad_(True)
    b = torch.randn(7, generator=gen, dtype=torch.float64, requires_grad=True)
    up = torch.randn(shape, generator=gen, dtype=torch.float64)
    mine = torch.autograd.grad((LayerNormFunction.apply(x, w, b, 1e-5) * up).sum(), (x, w, b))
    torch_own = torch.autograd.grad((torch.nn.functional.layer_norm(x, (7,), w, b, 1e-5) * up).sum(), (x, w, b))
    for got, want in zip(mine, torch_own):
        assert (got - want).abs().max().item() < 1e-12


# ---- what the child measures (in this process) -----------------------------------------------------
def test_engine_count_sees_every_run_of_the_engine_whatever_the_grad_mode():
    x = torch.randn(3, requires_grad=True)
    start = functiontask.engine_count()
    assert functiontask.engine_count() - start == 1  # nothing ran between: only the reading itself
    before = functiontask.engine_count()
    with torch.no_grad():  # grad mode off, as in a Function's backward, and switched back on
        with torch.enable_grad():
            torch.autograd.grad((x * x).sum(), x)
    graph = (x * 3).sum()  # a graph built earlier, only run now
    with torch.no_grad():
        graph.backward()
    assert functiontask.engine_count() - before - 1 == 2


def test_foreign_node_names_autograds_own_nodes_only():
    class Double(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = torch.randn(3, requires_grad=True)
    assert functiontask.foreign_node(Double.apply(x)) is None
    assert functiontask.foreign_node(x * 2) == "MulBackward0"
    assert functiontask.foreign_node(x.detach()) is None  # no node: nothing to say


# ---- the static names -----------------------------------------------------------------------------
@pytest.mark.parametrize("line, text", [
    ("g = torch.autograd.grad(y, x, dy)", "torch.autograd.grad"),
    ("loss.backward()", "loss.backward"),
    ("y.sum().backward(retain_graph=True)", "y.sum().backward"),
    ("torch.autograd.backward([y], [dy])", "torch.autograd.backward"),
    ("with torch.enable_grad():\n    pass", "torch.enable_grad"),
    ("torch.set_grad_enabled(True)", "torch.set_grad_enabled"),
    ("_, f = torch.func.vjp(fn, x)", "torch.func.vjp"),
    ("j = torch.autograd.functional.jacobian(fn, x)", "torch.autograd.functional.jacobian"),
    ("y = torch.utils.checkpoint.checkpoint(fn, x)", "torch.utils.checkpoint.checkpoint"),
    ("from torch.func import jacfwd", "from torch.func import jacfwd"),  # forward mode: by name only
    ("import torch.autograd.forward_ad as fwAD\nwith fwAD.dual_level():\n    pass", "fwAD.dual_level"),
    ("import functorch", "import functorch"),
])
def test_autograd_is_found_by_name_outside_a_self_test(line, text):
    source = f"import torch\n{line}\n"
    assert text in [f.text for f in forbidden.autograd_uses(source)]
    guarded = f'import torch\nif __name__ == "__main__":\n' + "".join(f"    {row}\n" for row in line.splitlines())
    assert forbidden.autograd_uses(guarded) == []


def test_a_hand_written_function_uses_no_autograd_by_name():
    for path in REDTEAM.glob("correct--*.py"):
        assert forbidden.autograd_uses(path.read_text(encoding="utf-8")) == [], path.name
    quiet = "import torch\nwith torch.no_grad():\n    pass\nx = ctx.needs_input_grad\ndef backward(ctx, g):\n    return g\n"
    assert forbidden.autograd_uses(quiet) == []


@pytest.mark.parametrize("name", ["autograd-in-backward--computed-names", "autograd-in-backward--graph-built-in-forward",
                                  "autograd-in-backward--apply-is-plain-autograd"])
def test_the_run_time_routes_escape_the_names(name):
    """These are caught at run time alone (graded below): the scan sees nothing in them."""
    assert forbidden.autograd_uses((REDTEAM / f"{name}.py").read_text(encoding="utf-8")) == []


# ---- the task file's schema -------------------------------------------------------------------------
@pytest.mark.parametrize("edit, why", [
    (lambda t: t["build"].update(kwargs={"eps": 1e-3}), "positional arguments only"),
    (lambda t: t["probes"][1]["build"].update(kwargs={"eps": 1e-3}), "positional arguments only"),
    (lambda t: t["probe_space"]["families"].append({"name": "kw", "eps": ["keyword-above"]}), "eps by keyword"),
    (lambda t: t["probes"][0].update(steps=["train", "eval"]), "no state between calls"),
    (lambda t: t.update(kind="module"), "`function:` is for kind: function"),
])
def test_a_function_task_refuses_what_apply_cannot_take(edit, why):
    raw = copy.deepcopy(_raw())
    if "keyword" in why:
        raw["task"]["probe_space"]["eps"] = {"default": 1e-5, "above": [1e-3]}
    edit(raw["task"])
    with pytest.raises(ValidationError, match=why):
        TaskFile.model_validate(raw)


def test_a_function_task_plans_gradcheck_and_forbidden_ops_instead_of_structure():
    spec = TaskFile.model_validate(_raw()).task
    kinds = [kind for _, kind, _, _ in plan(spec)]
    assert "structure" not in kinds and "init" not in kinds
    assert kinds[-4:] == ["gradcheck", "dtype-shape", "input-unchanged", "forbidden-ops"]


def test_the_public_example_shows_how_apply_is_called():
    from grader.bank.tasks import example_line, public_examples

    spec = TaskFile.model_validate(_raw()).task
    (example,) = public_examples(spec)
    assert example["build"] == "LayerNormFunction.apply(x, torch.ones(4), torch.zeros(4), 1e-05)"
    assert example_line(spec, spec.probes[0]).startswith("LayerNormFunction.apply(x, torch.ones(4)")


def test_every_mutant_file_is_declared_and_every_pitfall_has_a_mutant(builtin_tasks):
    spec = builtin_tasks["layernorm-backward"].spec
    on_disk = {f"layernorm_backward/{p.name}" for p in (ROOT / "grader" / "mutants" / "layernorm_backward").glob("*.py")}
    assert {m.file for m in spec.mutants} == on_disk
    assert {m.id for m in spec.mutants} == set(registry.ids_for("layernorm-backward")) - {"wrong-output"}
    assert set(spec.pitfalls) == set(registry.ids_for("layernorm-backward"))


# ---- the child's answer ----------------------------------------------------------------------------
GOOD = {"error": None, "classes": ["LayerNormFunction"], "structure": {},
        "probes": {"example": {"error": None, "grad_none": [], "version_bumped": False, "autograd_runs": 2,
                               "grad_fn": "MulBackward0"}},
        "gradcheck": {"passed": True, "message": ""}}


@pytest.mark.parametrize("path, value, why", [
    (("probes", "example", "autograd_runs"), True, "autograd_runs is not a count"),
    (("probes", "example", "autograd_runs"), -1, "autograd_runs is not a count"),
    (("probes", "example", "grad_fn"), "x" * 300, "characters long"),
    (("gradcheck", "passed"), "yes", "gradcheck.passed is not true or false"),
    (("gradcheck",), {"passed": True, "verdict": "pass"}, "unknown field"),
])
def test_the_function_reports_are_validated_like_the_rest(path, value, why):
    meta = copy.deepcopy(GOOD)
    target = meta
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(answer.BadAnswer, match=why):
        answer.validate(meta, ["example"])
    clean = answer.validate(GOOD, ["example"])
    assert answer.validate(clean, ["example"]) == clean  # the judge validates the clean copy again
    assert clean["probes"]["example"]["autograd_runs"] == 2 and clean["gradcheck"]["passed"] is True


def test_the_function_check_messages_have_chinese_wordings():
    tree = ast.parse((ROOT / "grader" / "grading" / "functionchecks.py").read_text(encoding="utf-8"))
    templates = {node.args[1].value for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and getattr(node.func, "attr", "") == "say" and isinstance(node.args[1], ast.Constant)}
    assert len(templates) >= 5 and sorted(t for t in templates if t not in wording.ZH) == []


# ---- graded end to end (the shared sandbox) -------------------------------------------------------
@pytest.fixture(scope="module")
def grade(sandbox, builtin_tasks):
    def run(path: Path):
        source, problem = read_submission(path)
        assert not problem
        return grade_source(source, path.name, builtin_tasks["layernorm-backward"], sandbox, deadline_s=20.0)

    return run


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_red_team_case(grade, path):
    """correct: passes with nothing named; <id>[+<id>]: fails, naming each with evidence;
    error-<kind>: that error."""
    head = path.stem.split("--")[0]
    result = grade(path)
    if head.startswith("error-"):
        assert result.verdict == "error" and result.error.kind == head.removeprefix("error-"), result.error
        assert "not a torch.autograd.Function" in result.error.message
        return
    failed = [(c.name, c.message) for c in result.checks if not c.passed]
    if head == "correct":
        assert result.verdict == "pass", (result.error, failed)
        assert [p.id for p in result.pitfalls if p.severity != "note"] == []
        return
    named = {p.id: p.evidence for p in result.pitfalls}
    assert result.verdict == "fail" and set(head.split("+")) <= set(named), (failed, named)
    assert all(named[i] for i in head.split("+"))
    checks = {c.name: c for c in result.checks}
    if head == "autograd-in-backward":  # right numbers, so the sign fails every backward check
        assert not checks["forbidden-ops"].passed and "autograd" in checks["forbidden-ops"].message
        assert all(not c.passed and "autograd" in c.message for c in result.checks if c.kind == "backward")
        assert all(c.passed for c in result.checks if c.kind == "forward")
    if path.stem == "wrong-output--unbiased-forward-consistent-backward":
        assert checks["gradcheck"].passed  # backward is the derivative of its own (wrong) forward
    if head in ("missing-mean-terms", "missing-variance-term"):
        assert not checks["gradcheck"].passed and "input 0 (x)" in checks["gradcheck"].message


def test_the_zygotes_warm_up_of_a_function_runs_no_backward():
    """The runner warms apply in the zygote at import, forward only: a backward before the fork
    starts autograd's threads (docs/DESIGN.md). The first graph task after the import is ours."""
    import subprocess
    import sys

    code = ("import grader.grading.runner\nfrom grader.grading import functiontask\n"
            "print(functiontask.engine_count())\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "0", done.stderr[-2000:]
