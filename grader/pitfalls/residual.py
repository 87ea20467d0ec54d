"""Behavioural residual-block detectors: where is the skip, where are the ReLUs?

Two kinds of evidence. The diagnostic probe silences the branch (fc1, fc2 zeroed) and feeds a
strictly positive input, where the block must be the identity: output relu(x) = x and dL/dx equal
to the upstream gradient. And, on the ordinary probes, the judge recomputes the block in float64
with the skip removed or the ReLUs moved, and names the simplest arrangement that reproduces the
submission's outputs.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.pitfalls.measure import (
    backward_ok, close, detector, error, fmt, forward_ok, input_grad, kept, out_of, ran,
)

# Below this (relative to the input's scale) an output is "zero": the skip added nothing.
ZERO = 1e-6
_BRANCH = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


@dataclass(frozen=True)
class Arrangement:
    """relu(fc2(relu(fc1 x)) + x) and its misplaced relatives; the default is the right one."""

    skip: bool = True
    inner_relu: bool = True
    # after-add | before-add (relu(branch) + x) | both (relu(relu(branch) + x)) | none
    final: str = "after-add"
    # none | branch (the "pre-activation" order: relu(x) feeds fc1) | both (x = relu(x) first: the
    # skip carries relu(x) too)
    input_relu: str = "none"

    def pitfalls(self) -> list[tuple[str, str]]:
        found = []
        if not self.skip:
            found.append(("missing-skip", "no input added back"))
        if not self.inner_relu or self.final != "after-add" or self.input_relu != "none":
            where = {"after-add": "after the addition", "before-add": "before the addition",
                     "both": "both after fc2 and after the addition", "none": "nowhere"}
            inner = "a ReLU between fc1 and fc2" if self.inner_relu else "no ReLU between fc1 and fc2"
            first = {"none": "", "branch": "a ReLU on the input before fc1, ",
                     "both": "a ReLU on the input before both paths, "}[self.input_relu]
            found.append(("activation-placement", f"{first}{inner} and the last ReLU {where[self.final]}"))
        return found


ARRANGEMENTS = sorted(
    (Arrangement(s, i, f, r) for s, i, f, r in itertools.product(
        (True, False), (True, False), ("after-add", "before-add", "both", "none"), ("none", "branch", "both"))
     # without a skip, before and after the addition are the same, and so are the input ReLUs
     if s or (f in ("after-add", "none") and r != "both")),
    key=lambda a: (len(a.pitfalls()), a.input_relu != "none", a.final != "after-add", not a.inner_relu),
)
RIGHT = ARRANGEMENTS[0]


def compute(probe: ProbeEvidence, a: Arrangement, x: torch.Tensor | None = None,
            detach_skip: bool = False) -> torch.Tensor | None:
    if not all(name in probe.params for name in _BRANCH):
        return None
    x = probe.x.detach().double() if x is None else x
    w = {name: probe.params[name].detach().double() for name in _BRANCH}
    if a.input_relu == "both":
        x = F.relu(x)
    hidden = F.linear(F.relu(x) if a.input_relu == "branch" else x, w["fc1.weight"], w["fc1.bias"])
    branch = F.linear(F.relu(hidden) if a.inner_relu else hidden, w["fc2.weight"], w["fc2.bias"])
    if a.final in ("before-add", "both"):
        branch = F.relu(branch)
    skip = x.detach() if detach_skip else x
    out = branch + skip if a.skip else branch
    return F.relu(out) if a.final in ("after-add", "both") else out


def _searchable(ev: Evidence) -> list[ProbeEvidence]:
    return [p for p in ran(ev) if p.spec.params != "init" and not p.spec.diagnostic]


def explain(probes: list[ProbeEvidence], memo=None) -> Arrangement | None:
    for a in ARRANGEMENTS:
        if all(close(out_of(p), kept(memo, ("residual", p.name, a), lambda: compute(p, a)), p) for p in probes):
            return a
    return None


@detector("missing-skip", "activation-placement", "detached-skip", "scaled-skip", "wrong-backward")
def residual_arrangement(ev: Evidence):
    probes = [p for p in _searchable(ev) if compute(p, RIGHT) is not None]
    if not probes or all(forward_ok(p) and backward_ok(p) for p in probes):
        return
    a = explain(probes, ev.memo)
    if a is None:
        return
    for pitfall, what in a.pitfalls():
        probe = max(probes, key=lambda p: error(compute(p, a), p.expected["out"]))
        yield pitfall, (
            f"probe {probe.name}: output is off the reference by {fmt(error(out_of(probe), probe.expected['out']))} "
            f"(relative), within {fmt(error(out_of(probe), compute(probe, a)))} of the block with {what}")
    if a == RIGHT:
        yield from _skip_gradient(probes)
    else:
        yield from _wrong_backward(probes, a)


def _wrong_backward(probes: list[ProbeEvidence], a: Arrangement):
    """Forward explained by a wrong arrangement, gradients not that arrangement's: a second mistake."""
    for p in probes:
        got = (p.got or {}).get("grad_input")
        if got is None or "grad_input" not in p.expected:
            continue
        want = input_grad(p, lambda x: compute(p, a, x=x))
        if not close(got, want, p):
            yield "wrong-backward", (
                f"probe {p.name}: the input gradient is off the gradient of the block forward computes by "
                f"{fmt(error(got, want))} (relative)")
            return


def _skip_gradient(probes: list[ProbeEvidence]):
    """Forward right, input gradient = the branch's + c * the skip's. c = 0: the skip was detached;
    another constant: its gradient was scaled."""
    failing = [p for p in probes if not backward_ok(p) and (p.got or {}).get("grad_input") is not None
               and "grad_input" in p.expected]
    if not failing:
        return
    scales = [_skip_scale(p) for p in failing]
    if any(c is None for c in scales) or max(scales) - min(scales) > SCALE_AGREEMENT:
        return
    p, c = failing[0], scales[0]
    off = fmt(error(p.got["grad_input"], p.expected["grad_input"]))
    if abs(c) <= SCALE_AGREEMENT:
        yield "detached-skip", (f"probe {p.name}: output right, input gradient off by {off} (relative); it "
                                f"equals the gradient through the branch alone")
    else:
        yield "scaled-skip", (f"probe {p.name}: output right, input gradient off by {off} (relative); it "
                              f"equals the branch's gradient plus {c:.3g} times the skip's")


# Two fitted skip scales this close are the same constant (and this close to 0, none).
SCALE_AGREEMENT = 1e-3


def _skip_scale(p: ProbeEvidence) -> float | None:
    """The c with grad = branch-only grad + c * skip grad, when such a c reproduces the gradient."""
    branch = input_grad(p, lambda x: compute(p, RIGHT, x=x, detach_skip=True))
    skip = p.expected["grad_input"].double() - branch
    rest = p.got["grad_input"].double() - branch
    norm = float((skip * skip).sum())
    if norm == 0.0:
        return None
    c = float((rest * skip).sum()) / norm
    return c if close(p.got["grad_input"], branch + c * skip, p) else None


@detector("missing-skip", "detached-skip", "scaled-skip")
def silenced_branch(ev: Evidence):
    """Branch zeroed, x > 0: the block is the identity, in value and in gradient."""
    for p in ev.probes.values():
        if not _is_silenced(p) or out_of(p) is None:
            continue
        out, x = out_of(p), p.x.double()
        if not close(out, x, p):
            if out.detach().double().abs().max().item() <= ZERO * x.abs().max().item():
                yield "missing-skip", (
                    f"probe {p.name} (branch zeroed, input > 0): output is 0 where relu(x) = x was expected")
            continue
        grad = (p.got or {}).get("grad_input")
        if grad is not None and not close(grad, p.upstream.double(), p):
            up = p.upstream.double()
            c = float((grad.double() * up).sum() / (up * up).sum())
            scaled = abs(c) > SCALE_AGREEMENT and close(grad, c * up, p)
            yield ("scaled-skip" if scaled else "detached-skip"), (
                f"probe {p.name} (branch zeroed, input > 0): dL/dx is off the upstream gradient by "
                f"{fmt(error(grad, up))} (relative)" + (f", {c:.3g} times it" if scaled else "")
                + "; the skip must pass it through unchanged")


def _is_silenced(p: ProbeEvidence) -> bool:
    zeroed = all(name in p.params and not p.params[name].any() for name in _BRANCH)
    return zeroed and p.spec.input.kind == "positive"
