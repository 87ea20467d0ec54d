"""The rmsnorm task (issue 18) end to end through the real sandbox: every mutant fails a numeric
check (a hidden forward or backward comparison, not only structure or the forbidden-ops record) and
is named by its own id without matching itself; the styles a learner may choose pass in pairs; the
forbidden list covers every fused norm, since an RMS norm is half of a layer norm of [x, -x].

(`bank validate` proves the task as a whole in tests/test_mutation.py; the forbidden routes a
submission may take are hostile files in tests/hostile/rmsnorm_*; mistakes in other styles are
tests/redteam/rmsnorm/.)
"""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.bank.catalog import load_paths
from grader.grading.submit import grade_source

ROOT = Path(__file__).resolve().parent.parent
NUMERIC = {"forward", "backward"}


@pytest.fixture(scope="module")
def task():
    return load_paths([ROOT / "questions" / "tasks" / "rmsnorm.yaml"]).tasks["rmsnorm"]


@pytest.fixture(scope="module")
def grade(sandbox, task):
    done = {}

    def run(source: str, exclude: str | None = None):
        if (source, exclude) not in done:
            done[source, exclude] = grade_source(source, "rmsnorm.py", task, sandbox, exclude_mutant=exclude)
        return done[source, exclude]

    return run


MUTANTS = [(m.id, m.file) for m in load_paths([ROOT / "questions" / "tasks" / "rmsnorm.yaml"]).tasks["rmsnorm"].spec.mutants]


@pytest.mark.parametrize("pitfall, file", MUTANTS, ids=[f for _, f in MUTANTS])
def test_every_mutant_fails_a_hidden_numeric_check_and_is_named(grade, task, pitfall, file):
    source = next(m for m in task.spec.mutants if m.file == file).path(task.dir).read_text(encoding="utf-8")
    result = grade(source, exclude=pitfall)
    numeric = [c.name for c in result.checks if c.kind in NUMERIC and c.hidden and not c.passed]
    assert numeric, [(c.name, c.passed) for c in result.checks]
    assert pitfall in {p.id for p in result.pitfalls}, [(p.id, p.evidence) for p in result.pitfalls]


# The right formula in the styles learners write it, as named pairs: the two of a pair differ in
# that one respect only, and both must pass with nothing named.
TEMPLATE = '''import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x_in = {cast_in}
        ms = {ms}
        y = {normed}
        return {cast_out} * self.weight
'''
PLAIN = {"cast_in": "x", "ms": "x_in.pow(2).mean(dim=-1, keepdim=True)", "normed": "x_in * torch.rsqrt(ms + self.eps)",
         "cast_out": "y"}
STYLES = {
    "pow-mean": {},
    "mul-mean": {"ms": "torch.mean(x_in * x_in, dim=-1, keepdim=True)"},
    "rsqrt": {},
    "one-over-sqrt": {"normed": "x_in * (1.0 / torch.sqrt(ms + self.eps))"},
    "keepdim": {},
    "unsqueeze": {"ms": "x_in.pow(2).mean(dim=-1).unsqueeze(-1)"},
    "input-dtype": {},
    "float64-and-back": {"cast_in": "x.to(torch.float64)", "cast_out": "y.to(x.dtype)"},
    "mean": {},
    "sum-over-n": {"ms": "(x_in ** 2).sum(dim=-1, keepdim=True) / x_in.shape[-1]"},
}
PAIRS = [("pow-mean", "mul-mean"), ("rsqrt", "one-over-sqrt"), ("keepdim", "unsqueeze"),
         ("input-dtype", "float64-and-back"), ("mean", "sum-over-n")]


@pytest.mark.parametrize("pair", PAIRS, ids=["-vs-".join(p) for p in PAIRS])
def test_both_styles_of_a_pair_pass_without_alarm(grade, pair):
    for style in pair:
        result = grade(TEMPLATE.format(**{**PLAIN, **STYLES[style]}))
        assert result.verdict == "pass", (style, [(c.name, c.message) for c in result.checks if not c.passed])
        assert [p.id for p in result.pitfalls if p.severity != "note"] == [], style


def test_an_rms_norm_is_half_a_layer_norm_of_x_and_minus_x():
    """Why forbidding rms_norm alone would not do: [x, -x] has mean 0 and variance mean(x^2)."""
    import torch
    import torch.nn.functional as F

    x = torch.randn(3, 5, 7, dtype=torch.float64)
    rms = x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
    half = F.layer_norm(torch.cat([x, -x], dim=-1), (14,), eps=1e-6)[..., :7]
    assert (rms - half).abs().max().item() < 1e-14


def test_every_fused_norm_is_forbidden_and_rms_norm_is_recorded_at_the_composite_op(task, builtin_tasks):
    from grader.grading import oprecord

    assert set(task.spec.forbidden.names) == set(builtin_tasks["layernorm"].spec.forbidden.names)
    assert set(task.spec.forbidden.ops) == {"layer_norm", "group_norm", "batch_norm", "instance_norm", "rms_norm"}
    ops = oprecord.forbidden_ops(task.spec.forbidden.ops)
    assert "aten.layer_norm.default" in ops and "aten.native_layer_norm.default" in ops
    names = oprecord._all_ops()
    if "aten.rms_norm.default" in names:  # torch >= 2.4: it decomposes before any kernel
        assert "aten.rms_norm.default" in ops
        assert oprecord._has(names["aten.rms_norm.default"], "CompositeImplicitAutograd")
