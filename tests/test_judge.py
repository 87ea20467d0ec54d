"""The judge on its own: what it makes of the child's outcome. The child's side is produced here by
calling grader.grading.runner.child_main in this (test) process, then tampered with the way a hostile child
could; everything the child sends must be validated, never believed."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import save

from grader.grading.judge import judge_main
from grader.sandbox.outcome import ChildOutcome
from grader.grading.runner import child_main

CORRECT = """
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        return torch.relu(self.fc2(torch.relu(self.fc1(x))) + x)
"""


# Hand-picked hidden probes (an explicit `probes:` list stays valid beside the drawn families):
# the judge's tests name them.
EXPLICIT = [
    {"name": "rows-2d", "input": {"shape": [8, 16]}},
    {"name": "batch-3d", "input": {"shape": [4, 5, 16]}},
    {"name": "float64", "input": {"shape": [4, 16], "dtype": "float64"}},
    {"name": "wide", "build": {"args": [128]}, "input": {"shape": [6, 128]}},
    {"name": "batch-of-one", "input": {"shape": [1, 16]}},
]


@pytest.fixture(scope="module")
def job(builtin_tasks):
    loaded = builtin_tasks["residual-block"]
    task = loaded.spec.model_dump(mode="json")
    task["probes"] = task["probes"][:1] + EXPLICIT + task["probes"][1:]
    task["probe_space"] = None
    return {"task": task, "task_dir": str(loaded.dir), "source": CORRECT,
            "filename": "submission.py", "seed": 11, "device": "cpu", "mode": "grade"}


def run_child(job) -> tuple[dict, dict]:
    sent = {}
    child_main(job, lambda meta, tensors: sent.update(meta=meta, tensors=dict(tensors)))
    return sent["meta"], sent["tensors"]


def judge(job, meta, tensors, **outcome) -> dict:
    blob = save({k: v.contiguous() for k, v in tensors.items()}) if tensors is not None else None
    return judge_main(job, ChildOutcome(status=outcome.pop("status", "ok"), meta=meta, tensors=blob, **outcome))


def check(result, name) -> dict:
    return next(c for c in result["checks"] if c["name"] == name)


def test_an_honest_correct_answer_passes(job):
    result = judge(job, *run_child(job))
    assert result["verdict"] == "pass" and result["score"] == result["max_score"] == len(result["checks"])


@pytest.mark.parametrize("status", ["timeout", "memory-limit", "crashed", "output-limit"])
def test_the_supervisors_status_is_the_error_kind(job, status):
    result = judge(job, None, None, status=status, detail="why", stdout="PASS\n")
    assert result["verdict"] == "error" and result["error"]["kind"] == status and "why" in result["error"]["message"]
    assert result["score"] == 0 and result["max_score"] == 15 and result["checks"] == []
    assert result["output"] == "PASS\n"  # shown, not believed


def test_no_readable_answer_is_a_crash(job):
    assert judge(job, None, None)["error"]["kind"] == "crashed"


def test_a_child_cannot_claim_a_verdict_or_an_unknown_error(job):
    meta, tensors = run_child(job)
    forged = dict(meta, verdict="pass", error={"kind": "pass", "message": "all good"})
    assert judge(job, forged, tensors)["error"]["kind"] == "crashed"


def test_child_reported_errors_become_error_kinds(job):
    meta = {"error": {"kind": "missing-class", "message": "class ResidualBlock is not defined"}}
    result = judge(job, meta, {})
    assert result["verdict"] == "error" and result["error"] == {"kind": "missing-class", "message": meta["error"]["message"]}


def test_unreadable_tensor_bytes_fail_every_numeric_check(job):
    meta, _ = run_child(job)
    result = judge_main(job, ChildOutcome(status="ok", meta=meta, tensors=b"\x00garbage-not-safetensors"))
    assert result["verdict"] == "fail"
    assert not check(result, "rows-2d/forward")["passed"] and "missing" in check(result, "rows-2d/forward")["message"]


def test_wrong_dtype_fails_its_check_and_dtype_shape(job):
    meta, tensors = run_child(job)
    tensors["rows-2d/out"] = tensors["rows-2d/out"].double()
    result = judge(job, meta, tensors)
    assert not check(result, "rows-2d/forward")["passed"] and "dtype float64" in check(result, "rows-2d/forward")["message"]
    assert not check(result, "dtype-shape")["passed"]
    assert check(result, "batch-3d/forward")["passed"]


def test_hidden_shape_is_not_revealed(job):
    meta, tensors = run_child(job)
    tensors["rows-2d/out"] = tensors["rows-2d/out"][:1]
    message = check(judge(job, meta, tensors), "rows-2d/forward")["message"]
    assert "wrong shape" in message and "[8, 16]" not in message


def test_a_changed_input_fails_input_unchanged(job):
    meta, tensors = run_child(job)
    tensors["batch-3d/input_after"] = tensors["batch-3d/input_after"] + 1
    result = judge(job, meta, tensors)
    assert not check(result, "input-unchanged")["passed"] and "batch-3d" in check(result, "input-unchanged")["message"]


def test_a_missing_parameter_gradient_fails_backward(job):
    meta, tensors = run_child(job)
    del tensors["wide/grad/fc2.bias"]
    result = judge(job, meta, tensors)
    assert "gradient of fc2.bias: missing" in check(result, "wide/backward")["message"]
    assert check(result, "wide/forward")["passed"]


def test_grad_none_is_named(job):
    meta, tensors = run_child(job)
    meta["probes"]["wide"]["grad_none"] = ["fc1.weight"]
    assert "no gradient reached: fc1.weight" in check(judge(job, meta, tensors), "wide/backward")["message"]


def test_structure_compares_with_the_reference(job):
    meta, tensors = run_child(job)
    meta["structure"]["parameters"].append({"name": "fc3.weight", "shape": [16, 16], "init": "other"})
    meta["structure"]["submodules"].append({"name": "fc3", "type": "Linear"})
    message = check(judge(job, meta, tensors), "structure")["message"]
    assert "unexpected parameters: fc3.weight" in message and "fc3 (Linear)" in message


def test_evidence_reaches_the_pitfall_detectors(job, monkeypatch):
    seen = {}

    def diagnose(ev):
        seen["ev"] = ev
        return []

    import grader.pitfalls

    monkeypatch.setattr(grader.pitfalls, "diagnose", diagnose, raising=False)
    judge(dict(job, exclude_mutant="m1"), *run_child(job))
    ev = seen["ev"]
    assert ev.exclude_mutant == "m1" and set(ev.probes) == {p["name"] for p in job["task"]["probes"]}
    skip = ev.probes["skip-only"]  # the diagnostic probe: branch zeroed, so out == x
    assert torch.allclose(skip.got["out"].double(), skip.x.double())
    assert torch.equal(skip.expected["out"], skip.x.double())
    ref = ev.build("reference", (4,), {})
    assert isinstance(ref, torch.nn.Module) and sum(p.numel() for p in ref.parameters()) == 2 * (16 + 4)


def test_a_mapping_that_claims_one_reference_name_twice_fails_structure(job):
    meta, tensors = run_child(job)
    meta["structure"]["parameters"].append({"name": "spare", "shape": [16, 16], "init": "other"})
    meta["structure"]["mapping"]["spare"] = "fc1.weight"
    result = judge(job, meta, tensors)
    assert not check(result, "structure")["passed"] and "unexpected parameters: " in check(result, "structure")["message"]


def test_a_failed_public_example_shows_its_input_and_a_hidden_one_does_not(job):
    meta, tensors = run_child(job)
    tensors["example/out"] = tensors["example/out"] + 1
    tensors["rows-2d/out"] = tensors["rows-2d/out"] + 1
    result = judge(job, meta, tensors)
    assert check(result, "example/forward")["example"] == (
        "ResidualBlock(4)(x), x (float32) = [[1.0, -2.0, 0.5, 3.0], [0.0, 1.5, -0.5, -1.0]]")
    assert check(result, "rows-2d/forward")["example"] is None  # hidden: its input stays hidden
    assert check(result, "example/backward")["passed"] and check(result, "example/backward")["example"] is None


def test_a_hidden_gradient_of_the_wrong_shape_does_not_reveal_the_shape(job):
    meta, tensors = run_child(job)
    tensors["rows-2d/grad_input"] = tensors["rows-2d/grad_input"][:1]
    message = check(judge(job, meta, tensors), "rows-2d/backward")["message"]
    assert "gradient of input: has the wrong shape" in message and "[8, 16]" not in message
    tensors = run_child(job)[1]
    tensors["example/grad_input"] = tensors["example/grad_input"][:1]
    assert "[2, 4]" in check(judge(job, meta, tensors), "example/backward")["message"]  # public: shown


def test_input_mutation_is_checked_on_every_probe_diagnostic_ones_too(job):
    """Issue 9: a write into an input that only a diagnostic probe (here the strictly positive one)
    meets still fails input-unchanged."""
    source = CORRECT.replace("return torch.relu(", "if bool((x > 0).all()):\n            x.mul_(1.0 + 1e-3)\n"
                                                  "        return torch.relu(")
    sneaky = dict(job, source=source)
    result = judge(sneaky, *run_child(sneaky))
    unchanged = check(result, "input-unchanged")
    assert not unchanged["passed"] and "skip-only" in unchanged["message"]


@pytest.mark.parametrize("tamper", ["none", "forward-off", "gradient-off", "gradient-missing", "output-float64",
                                    "output-nan"])
def test_the_detectors_get_the_checks_verdicts_as_they_would_measure_them(job, monkeypatch, tamper):
    """The checks' forward/backward verdicts go to the pitfall detectors with the evidence
    (grader.grading.checks._measured), so a passing grade does not compare every tensor twice; each
    must be what measure.forward_ok/backward_ok would find on their own."""
    from grader.pitfalls import measure

    seen = {}

    def diagnose(ev):
        seen["ev"] = ev
        return []

    import grader.pitfalls

    monkeypatch.setattr(grader.pitfalls, "diagnose", diagnose, raising=False)
    meta, tensors = run_child(job)
    if tamper == "forward-off":
        tensors["rows-2d/out"] = tensors["rows-2d/out"] * 1.01
    elif tamper == "gradient-off":
        tensors["batch-3d/grad/fc1.weight"] = tensors["batch-3d/grad/fc1.weight"] + 1e-2
    elif tamper == "gradient-missing":
        del tensors["wide/grad_input"]
    elif tamper == "output-float64":
        tensors["float64/out"] = tensors["float64/out"].float()
    elif tamper == "output-nan":
        tensors["batch-of-one/out"] = tensors["batch-of-one/out"].clone().fill_(float("nan"))
    judge(job, meta, tensors)
    handed = {name: dict(p.verdicts) for name, p in seen["ev"].probes.items()}
    graded = [p for p in seen["ev"].probes.values() if not p.spec.diagnostic and p.got is not None]
    assert graded and all(handed[p.name] for p in graded)
    for p in graded:
        p.verdicts.clear()
        assert handed[p.name] == {"forward": measure.forward_ok(p), "backward": measure.backward_ok(p)}, p.name
    assert any(False in v.values() for v in handed.values()) == (tamper not in ("none", "output-float64"))
