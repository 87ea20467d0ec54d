"""Mutant matching: run each known-wrong variant of the task beside the reference, on the same
inputs, parameters and upstream gradients, and name a mutant's pitfall when the submission's outputs
and gradients equal the mutant's.

Mutants are trusted files (dlprep's or the instructor's), built in the judge by Evidence.build. They
run in the probe's own dtype, as a submission does, so a float32 failure (the one-pass variance)
shows as it would in the child. When a task is being proved, the mutant under test is excluded: it
must be named by some other detector, or, for an instructor's own pitfall, by its other mutants.
"""
from __future__ import annotations

import contextlib

import torch

from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.pitfalls.measure import construction, error, fmt, kept, out_of, tol
from grader.grading.probes import backward, key_base, key_kind, present
from grader.grading.stateful import run_steps


def match_mutants(ev: Evidence, skip: set[str]):
    """(mutant id, evidence) for each mutant reproducing the submission; ids in `skip` (already
    shown) and the excluded mutant are not run."""
    # A stochastic probe (dropout in train mode) depends on the submission's mask, which a mutant's own
    # draw does not share: only grader.pitfalls.sublayer reads those, with the mask.
    probes = [p for p in ev.probes.values() if out_of(p) is not None and p.spec.params != "init"
              and not ev.task.stochastic(p.spec)]
    if ev.build is None or not probes:
        return
    for mutant in ev.task.mutants:
        # A built-in pitfall's proof excludes its id (another detector must name it); an instructor's
        # own excludes the one file (leave-one-out: its other variants must name it).
        if mutant.id in skip or ev.exclude_mutant in (mutant.id, mutant.file):
            continue
        worst = _agreement(ev, mutant.file, probes)
        if worst is not None:
            skip = skip | {mutant.id}  # a second mutant of the same id adds nothing
            yield mutant.id, (
                f"outputs and gradients equal those of the known mistake '{mutant.id}' on "
                f"{len(probes)} probes (largest difference {fmt(worst)}, relative)")


def _agreement(ev: Evidence, mutant_id: str, probes: list[ProbeEvidence]) -> float | None:
    """The largest difference from the mutant over all probes, or None when they disagree (or the
    mutant agrees with the reference everywhere, which names nothing)."""
    worst, separated = 0.0, False
    for probe in probes:
        theirs = _run(ev, mutant_id, probe, lambda out: _agrees(probe, "out", out))
        if theirs is None or any(v is not None and k not in theirs for k, v in probe.got.items()):
            return None
        for key, want in theirs.items():
            got = probe.got.get(key)
            if got is None:
                continue
            expected = probe.expected.get(key)
            wrong = expected is not None and error(want, expected) > tol(probe)
            separated |= wrong
            diff = error(got, want)
            if diff > tol(probe) and not (wrong and _both_broken(probe, got, expected)):
                return None
            worst = max(worst, diff if diff != float("inf") else 0.0)
    return worst if separated else None


def _agrees(probe: ProbeEvidence, key: str, want: torch.Tensor) -> bool:
    """Does the submission's tensor `key` equal the mutant's (or is it missing, so it cannot differ)?
    The test _agreement applies to every key, asked of the output before the mutant's backward runs."""
    got, expected = probe.got.get(key), probe.expected.get(key)
    if got is None:
        return True
    wrong = expected is not None and error(want, expected) > tol(probe)
    return error(got, want) <= tol(probe) or (wrong and _both_broken(probe, got, expected))


def _both_broken(probe: ProbeEvidence, got: torch.Tensor, expected: torch.Tensor) -> bool:
    """On a loose-tolerance probe (x + 1e4) a broken formula gives rounding noise that differs
    with the order of operations: being wrong there as the mutant is wrong counts as agreeing."""
    return probe.spec.tolerance == "offset" and error(got, expected) > tol(probe)


def _run(ev: Evidence, mutant_id: str, probe: ProbeEvidence, out_agrees) -> dict[str, torch.Tensor] | None:
    """The mutant's output, input gradient and parameter gradients, keyed as the child keys them;
    None when out_agrees(output) is False: most mutants differ in their output, and their backward
    (half a failing submission's diagnosis) then need not run."""
    if ev.memo is None:
        held, found = _whole_run(ev, mutant_id, probe, out_agrees)
    else:  # the judge process: every mutant's whole run, once per task and seed (within the memo's budget)
        held, found = kept(ev.memo, ("mutant", mutant_id, probe.name), lambda: _whole_run(ev, mutant_id, probe))
    if found is None or not _holds_the_same(ev, held, probe) or not out_agrees(found["out"]):
        return None
    return found


def _whole_run(ev: Evidence, mutant_id: str, probe: ProbeEvidence,
               out_agrees=lambda out: True) -> tuple[set, dict | None]:
    """(the mutant's parameter names, its output and gradients; None where it fails or where
    out_agrees(output) is False, before its backward). Made of trusted code and the truth's inputs
    alone, whatever the submission did: the memo keeps it with out_agrees always true."""
    args, kwargs = construction(ev, probe)
    try:
        module = ev.build(mutant_id, args, kwargs)
        return _parameter_names(module), _forward_backward(module, probe, out_agrees)
    except Exception:  # a mutant that fails on this probe cannot be matched on it
        return set(), None


def _parameter_names(module: torch.nn.Module) -> set[str]:
    return {own for own, _ in module.named_parameters()}


def _holds_the_same(ev: Evidence, held: set[str], probe: ProbeEvidence) -> bool:
    """Does the mutant hold the reference parameters the submission holds? A weight never applied
    and no weight at all compute the same numbers (an RMSNorm's gain), but are different mistakes.
    Without a structure report (the submission did not build) there is nothing to compare."""
    if not ev.structure:
        return True
    names = set(probe.params)
    return held & names == set((ev.structure.get("mapping") or {}).values()) & names


def _forward_backward(module: torch.nn.Module, probe: ProbeEvidence, out_agrees=lambda out: True):
    """Run as the child runs the probe: its layout, grad mode, train/eval mode and earlier calls."""
    spec = probe.spec
    module = module.to(probe.x.dtype).train(spec.mode == "train")
    own = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in probe.params.items():
            if name in own and own[name].shape == value.shape:
                own[name].copy_(value)
    if spec.steps or "state" in spec.checks:  # a call sequence, buffers compared: as the child runs it
        buffers = dict.fromkeys(key_base(k).removeprefix("buffer/") for k in probe.expected if key_kind(k) == "buffer")
        inputs = [x for _, x, _ in probe.steps] or [probe.x]
        found, _ = run_steps(module, spec, probe.x.dtype, list(buffers), inputs,
                             lambda i, shape: probe.steps[i][2] if probe.steps else probe.upstream, probe.first)
        return found if out_agrees(found["out"]) else None
    context = torch.no_grad if spec.grad == "no_grad" else contextlib.nullcontext
    for _ in range(spec.calls - 1):
        with context():
            module(present(probe.first, spec.layout))
    x = probe.x.detach().clone().requires_grad_(spec.grad == "requires")
    with context():
        out = module(present(x, spec.layout))
    found = {"out": out.detach()}
    if not out_agrees(found["out"]):
        return None
    if out.requires_grad and "backward" in spec.checks:
        backward(out, probe.upstream)  # no explicit grad tensor: autograd would import sympy (0.4 s)
        if x.grad is not None:
            found["grad_input"] = x.grad
        found.update({f"grad/{n}": p.grad for n, p in own.items() if p.grad is not None})
    return found
