"""Call sequences with state (grader/grading/stateful.py, issue 19): a probe's steps (train and eval
calls on one module) and the buffers compared after each. The spec's rules, the channels space's
draws, the child's report (in this process: these are trusted sources) and the judge's checks of
every step; the static rule that lets a module update its own state under no_grad.
"""
from __future__ import annotations

import textwrap

import pytest
from pydantic import ValidationError

from grader.bank import families
from grader.bank.taskspec import Family, Probe, TaskSpec
from grader.grading import answer
from grader.pitfalls.static import scan

REFERENCE = "grader/references/batchnorm1d.py"
MUTANTS = "grader/mutants/batchnorm1d"


@pytest.fixture(scope="module")
def spec(builtin_tasks):
    """The batchnorm1d task with two probes: a sequence on (N, C, L) and a repeated train call."""
    task = builtin_tasks["batchnorm1d"]
    probes = [Probe.model_validate(p) for p in (
        {"name": "seq", "build": {"args": [3], "kwargs": {"momentum": 0.3}}, "input": {"shape": [4, 3, 2]},
         "steps": ["train", "eval", "train"], "checks": ["forward", "backward", "state"]},
        {"name": "twice", "build": {"args": [5]}, "input": {"shape": [3, 5], "dtype": "float64"}, "calls": 2,
         "checks": ["forward", "backward", "state"]})]
    return task.spec.model_copy(update={"probes": probes, "probe_space": None})


def run(spec, source: str):
    """The child's answer and the judge's checks and pitfalls, both in this process."""
    from grader import pitfalls
    from grader.grading.judge import Judgement
    from grader.grading.runner import child_main

    job = {"task": spec.model_dump(mode="json"), "task_dir": None, "source": source, "filename": "s.py",
           "seed": 7, "device": "cpu", "mode": "grade"}
    sent = {}
    child_main(job, lambda meta, tensors: sent.update(meta=meta, tensors=tensors))
    judge = Judgement(job, spec, sent["meta"], sent["tensors"])
    return sent, {c.name: c for c in judge.checks()}, {p.id for p in pitfalls.diagnose(judge.evidence(None))}


def source_of(path: str) -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parent.parent / path).read_text()


# -- the spec --------------------------------------------------------------------------------------
@pytest.mark.parametrize("probe, message", [
    ({"steps": ["train", "eval"], "mode": "eval"}, "steps set the mode of every call"),
    ({"steps": ["train", "eval"], "calls": 2}, "steps set the mode of every call"),
    ({"steps": ["train"] * 7}, "at most 6"),
    ({"steps": ["test"]}, "'train' or 'eval'"),
])
def test_a_probe_s_steps_are_train_and_eval_calls_and_nothing_else(probe, message):
    with pytest.raises(ValidationError, match=message):
        Probe.model_validate({"name": "p", "input": {"shape": [3, 4]}, **probe})


def test_a_state_check_compares_the_buffers_the_task_declares(spec):
    data = spec.model_dump(mode="json")
    Probe.model_validate({**data["probes"][0]})  # fine alone: the task decides
    with pytest.raises(ValidationError, match="a state check compares the task's `buffers`, and it declares none"):
        TaskSpec.model_validate({**data, "buffers": []})


def test_a_family_s_steps_are_words():
    assert Family.model_validate({"name": "f", "steps": ["train eval", "eval train train"]}).steps
    with pytest.raises(ValidationError):
        Family.model_validate({"name": "f", "steps": ["train,eval"]})


def test_the_channels_space_draws_batches_of_three_or_more_with_the_state_checked(builtin_tasks):
    space = builtin_tasks["batchnorm1d"].spec.probe_space
    for seed in range(20):
        for p in families.draw(space, seed, "batchnorm1d"):
            probe = Probe.model_validate(p)
            shape, channels = probe.input.shape, p["build"]["args"][0]
            assert len(shape) in (2, 3) and shape[0] >= 3 and shape[1] == channels, p
            assert "state" in probe.checks
            assert not probe.steps or (probe.mode == "train" and probe.calls == 1)
    refused = families.problems({**families.DEFAULTS, "batch": "unbatched"}, space)
    assert refused == ["batch statistics need a batch of two or more"]


# -- the child's report and the judge's checks ----------------------------------------------------------
def test_the_child_reports_every_step_and_copies_of_the_buffers_after_it(spec):
    sent, checks, named = run(spec, source_of(REFERENCE))
    keys = set(sent["tensors"])
    for prefix in ("seq/step0/", "seq/step1/", "seq/"):
        assert {prefix + k for k in ("out", "grad_input", "grad/weight", "buffer/running_mean")} <= keys
    assert "seq/step2/out" not in keys  # the last step is the probe's own
    t = sent["tensors"]
    # eval leaves the statistics as they were; the next train call moves them: copies, not the buffer
    assert t["seq/step0/buffer/running_mean"].equal(t["seq/step1/buffer/running_mean"])
    assert not t["seq/step1/buffer/running_mean"].equal(t["seq/buffer/running_mean"])
    assert sent["meta"]["structure"]["buffers"] == [  # the fresh module, as the task builds it
        {"name": "running_mean", "shape": [6], "dtype": "float32", "init": "zeros", "registered": True},
        {"name": "running_var", "shape": [6], "dtype": "float32", "init": "ones", "registered": True}]
    assert all(c.passed for c in checks.values()) and not named, {n: c.message for n, c in checks.items()}


def test_each_step_is_judged_and_named_in_the_message(spec):
    _, checks, named = run(spec, source_of(f"{MUTANTS}/running_stats_updated_in_eval.py"))
    assert checks["seq/forward"].message == "step 2 (eval): output: 100% of the elements off"  # hidden: a share
    assert checks["seq/state"].message.startswith("step 2 (eval): buffer running_mean: 100% of the elements off")
    assert checks["twice/state"].passed and checks["twice/forward"].passed  # training alone is right
    assert named == {"running-stats-updated-in-eval"}


def test_plain_attributes_fail_the_structure_while_their_values_are_judged(spec):
    """Registered buffers are the contract (state_dict, .to()); the running statistics' values are
    still compared, so the one mistake fails structure, and a float64 probe (.to() casts nothing)."""
    sent, checks, named = run(spec, source_of(f"{MUTANTS}/unregistered_buffers.py"))
    assert [b["registered"] for b in sent["meta"]["structure"]["buffers"]] == [False, False]
    assert checks["structure"].message.startswith("not registered as buffers: running_mean, running_var")
    assert checks["seq/state"].passed and not checks["twice/state"].passed
    assert "unregistered-buffers" in named


def test_an_earlier_step_s_failed_backward_keeps_every_output(spec):
    source = source_of(REFERENCE).replace(
        "        x_hat = (x - mean",
        "        if self.training:\n            x = _Refuse.apply(x)\n        x_hat = (x - mean", 1) + textwrap.dedent('''

        class _Refuse(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.clone()

            @staticmethod
            def backward(ctx, grad):
                raise RuntimeError("no backward in training")
        ''')
    _, checks, _ = run(spec, source)
    assert checks["seq/forward"].passed and checks["seq/state"].passed
    assert checks["seq/backward"].message.startswith("step 1 of 3 (train): RuntimeError: no backward in training")


def test_a_forward_that_raises_in_a_later_step_names_the_step(spec):
    source = source_of(REFERENCE).replace("            mean, var = self.running_mean, self.running_var",
                                          "            raise ValueError('eval is not written yet')")
    _, checks, _ = run(spec, source)
    for kind in ("forward", "backward", "state"):
        assert checks[f"seq/{kind}"].message.startswith("step 2 of 3 (eval): ValueError: eval is not written yet")


# -- the answer's schema ------------------------------------------------------------------------------
def buffers_answer(buffers) -> dict:
    return {"structure": {"parameters": [], "submodules": [], "mapping": {}, "buffers": buffers}}


@pytest.mark.parametrize("buffers, message", [
    ([{"name": "running_mean", "shape": [3], "init": "zeros", "registered": "yes"}], "registered is not true or false"),
    ([{"name": "b", "shape": [3], "init": "zeros", "registered": True}] * 65, r"has 65 entries \(limit 64\)"),
    ([{"name": "b", "shape": 3, "init": "zeros", "registered": True}], "shape is not a list"),
    ([{"name": "b", "shape": [3], "init": "zeros", "registered": True, "value": [0]}], "unknown field 'value'"),
])
def test_the_buffer_report_is_validated_like_the_rest_of_the_answer(buffers, message):
    with pytest.raises(answer.BadAnswer, match=message):
        answer.validate(buffers_answer(buffers), [])


# -- the static rule: a module's own state updated under no_grad is no detach ---------------------------
def test_updating_the_running_statistics_under_no_grad_is_not_a_detached_statistic():
    update = textwrap.dedent('''\
        import torch
        import torch.nn as nn

        class BatchNorm1d(nn.Module):
            def forward(self, x):
                mean, var = x.mean(0), x.var(0, unbiased=False)
                with torch.no_grad():
                    self.running_mean.mul_(0.9).add_(0.1 * mean)
                    self.num_batches_tracked += 1
                self.running_var = 0.9 * self.running_var + 0.1 * var.detach()
                return (x - mean) / torch.sqrt(var + 1e-5)
        ''')
    assert [f for f in scan(update, "BatchNorm1d") if "detached-statistics" in f.ids] == []
    detached = update.replace("        mean, var = x.mean(0), x.var(0, unbiased=False)\n        with torch.no_grad():\n",
                              "        with torch.no_grad():\n            mean, var = x.mean(0), x.var(0, unbiased=False)\n")
    assert [f.code for f in scan(detached, "BatchNorm1d") if "detached-statistics" in f.ids] == ["torch.no_grad()"]


def test_a_declared_buffer_the_reference_lacks_fails_the_reference(spec):
    """The task's own fault, shown by `bank validate` as the reference failing structure."""
    wrong = spec.model_copy(update={"buffers": [*spec.buffers, spec.buffers[0].model_copy(update={"name": "count"})]})
    _, checks, _ = run(wrong, source_of(REFERENCE))
    assert checks["structure"].message == "the task declares the buffer count, which its reference does not register"
    assert not checks["structure"].passed and checks["seq/state"].passed  # the others are still compared
