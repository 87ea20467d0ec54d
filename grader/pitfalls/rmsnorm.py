"""Behavioural RMSNorm detectors: which wrong formula did the submission compute?

The judge recomputes RMS norm in float64 from each probe's input and loaded weight under every
combination of the known mistakes (the mean subtracted, eps outside the root or missing, the sum of
squares instead of the mean, the mean square over other dims, the gain not applied; and, alone or
beside one other, an eps other than the module's and a per-feature constant added: a bias) and
names the simplest combination that reproduces the outputs on every ordinary probe. A bias is fitted,
not read: the submission's own bias has seeded values no reference parameter carries
(grader.grading.runner loads every parameter the reference lacks), so the detector asks whether the
output minus the formula is one constant per feature, the same in every row.

It speaks only for a task whose module is an RMS norm (`is_rms_task`); layer norm's formulas are
grader.pitfalls.layernorm's, which stays silent there.
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass

import torch

from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.pitfalls.measure import (
    backward_ok, close, construction, detector, error, fmt, forward_ok, input_grad, kept, nonfinite, out_of, ran,
    eps_by_rule,
)

DEFAULT_EPS = 1e-6  # the task's RMSNorm(dim, eps=1e-6), when a probe's construction names none


def is_rms_task(task) -> bool:
    """The task's module is an RMS norm: its class, its reference's class or its id says so
    (RMSNorm, LlamaRMSNorm, rms-norm; not TwoNorms)."""
    names = (task.class_name, task.reference.rsplit(":", 1)[-1], task.id)
    return any(_RMS.search(name.lower()) for name in names)


_RMS = re.compile(r"rmsnorm|rms_norm|(^|[^a-z])rms")


@dataclass(frozen=True)
class Variant:
    """One way to compute RMS norm; the default is the right one."""

    centre: bool = False  # x - mean, then its mean square (a layer norm without bias)
    eps: str = "inside"  # inside | outside (added to the RMS) | missing
    reduce: str = "mean"  # mean | sum (the squared L2 norm: no 1/n)
    dims: str = "last"  # last | dim0 (the batch) | dim1 | all | features (every dim but the first)
    gain: bool = True  # the weight applied
    # A constant used always ("fixed": the argument ignored) or only when none is given ("default"),
    # eps**2 ("squared"), an eps given by position dropped ("keyword-only"), raised to at least a value.
    eps_rule: tuple[str, float] | None = None
    bias: bool = False  # a per-feature constant added after the gain (fitted, see the docstring)

    def eps_for(self, s: "Setting") -> float:
        return eps_by_rule(self.eps_rule, s)

    def pitfalls(self, has_weight: bool = True) -> list[tuple[str, str]]:
        """(pitfall id, what this variant does) for each way it departs from the right formula.
        Without a weight parameter a gain never applied is a missing one, else an unused one."""
        found = []
        if self.centre:
            found.append(("subtracts-mean", "the mean subtracted first (a layer norm without bias)"))
        if self.eps != "inside":
            found.append(("eps-outside-sqrt", "eps added to the RMS") if self.eps == "outside"
                         else ("missing-eps", "no eps"))
        if self.reduce == "sum":
            found.append(("norm-not-rms", "the sum of squares (the L2 norm) instead of their mean"))
        if self.dims != "last":
            found.append(("wrong-normalized-dims", f"the mean square over {_DIMS_TEXT[self.dims]}"))
        if not self.gain:
            found.append(("unused-parameter", "the weight never applied") if has_weight
                         else ("missing-affine", "no weight applied"))
        if self.eps_rule is not None:
            rule, value = self.eps_rule
            found.append(("wrong-eps", _EPS_TEXT[rule].format(value=value, default=DEFAULT_EPS)))
        if self.bias:
            found.append(("extra-bias", "a constant per feature added to every row (a bias)"))
        return found


_EPS_TEXT = {"fixed": "eps = {value:g} whatever eps the module was built with",
             "default": "a default eps of {value:g} instead of {default:g}",
             "squared": "eps squared (eps**2 added to the mean square)",
             "keyword-only": "an eps given by position ignored (RMSNorm(n, 1e-3) must use 1e-3)",
             "floor": "eps raised to at least {value:g} (a smaller eps ignored)"}
_DIMS_TEXT = {"last": "the last dim", "dim0": "dim 0 (across the batch)", "dim1": "dim 1",
              "all": "every dim", "features": "every dim but the first"}
# Defaults learners bring from elsewhere: nn.LayerNorm's 1e-5, 1e-8 from optimisers, BERT's 1e-12.
EPS_RULES = [("fixed", DEFAULT_EPS), ("fixed", 1e-5), ("fixed", 1e-8),
             *(("default", value) for value in (1e-5, 1e-8, 1e-12)),
             ("squared", 0.0), ("keyword-only", DEFAULT_EPS), ("floor", DEFAULT_EPS)]
_BASE = [Variant(c, e, r, d, g) for c, e, r, d, g in itertools.product(
    (False, True), ("inside", "outside", "missing"), ("mean", "sum"), ("last", "dim0", "dim1", "all", "features"),
    (True, False))]
# The eps rules and a bias are tried alone and beside one other mistake: enough to name a pair.
_EXTRA = [{"eps_rule": rule} for rule in EPS_RULES] + [{"bias": True}]
# Simplest first: the first variant that fits names the fewest mistakes.
VARIANTS = sorted(
    [*_BASE, *(dataclasses.replace(base, **extra) for extra in _EXTRA for base in _BASE if len(base.pitfalls()) <= 1)],
    key=lambda v: len(v.pitfalls()),
)
RIGHT = VARIANTS[0]


@dataclass(frozen=True)
class Setting:
    """What a probe's module was built with."""

    eps: float
    eps_given: bool = True  # built with an explicit eps (else the task's default applies)
    eps_positional: bool = False  # given as the second argument, RMSNorm(n, 1e-3)


def setting(ev: Evidence, probe: ProbeEvidence) -> Setting | None:
    args, kwargs = construction(ev, probe)
    eps = kwargs.get("eps", args[1] if len(args) > 1 else DEFAULT_EPS)
    if not isinstance(eps, (int, float)) or isinstance(eps, bool):
        return None
    return Setting(float(eps), "eps" in kwargs or len(args) > 1, len(args) > 1)


def compute(probe: ProbeEvidence, s: Setting, v: Variant, detach: bool = False,
            x: torch.Tensor | None = None) -> torch.Tensor:
    """The variant's output in float64 on the probe's input (or on `x`, to differentiate), without
    its bias (fitted by `fit`). `detach`: the mean square taken out of the graph."""
    x = probe.x.detach().double() if x is None else x
    dims = _dims(x.ndim, v.dims)
    c = x - x.mean(dims, keepdim=True) if v.centre else x
    ms = (c * c).mean(dims, keepdim=True) if v.reduce == "mean" else (c * c).sum(dims, keepdim=True)
    ms = ms.detach() if detach else ms
    eps = v.eps_for(s)
    if v.eps == "inside":
        y = c / torch.sqrt(ms + eps)
    else:
        y = c / (torch.sqrt(ms) + (eps if v.eps == "outside" else 0.0))
    if v.gain:
        weight = probe.params.get("weight")
        y = y * (weight.detach().double() if weight is not None else 1.0)
    return y


def fit(got: torch.Tensor, y: torch.Tensor, v: Variant) -> torch.Tensor:
    """The variant's output with its bias: the mean over the rows of what the formula leaves
    unexplained, one constant per feature (none unless the variant has a bias). An unbatched
    input is one row: there any difference fits, and the probes of several rows decide."""
    if not v.bias or y.ndim < 1 or got.shape != y.shape:
        return y
    rest = (got.detach().double() - y).reshape(-1, y.shape[-1])
    return y + rest.mean(0)


def _dims(ndim: int, how: str) -> tuple[int, ...]:
    if ndim < 2:
        return (0,)
    return {"last": (ndim - 1,), "dim0": (0,), "dim1": (1,), "all": tuple(range(ndim)),
            "features": tuple(range(1, ndim))}[how]


def _searchable(ev: Evidence) -> list[tuple[ProbeEvidence, Setting]]:
    """Probes with outputs and seeded parameters (not the fresh-module ones)."""
    return [(p, s) for p in ran(ev) if p.spec.params != "init" and (s := setting(ev, p))]


def explain(probes: list[tuple[ProbeEvidence, Setting]], memo=None) -> Variant | None:
    """The simplest variant reproducing every probe's output, or None. A bias needs a probe of
    several rows to be seen: on one row any difference is 'a constant per feature'."""
    rows = any(_rows(p) > 1 for p, _ in probes)
    for v in VARIANTS:
        if v.bias and not rows:
            continue
        if all(close(out_of(p), fit(out_of(p), kept(memo, ("rmsnorm", p.name, s, v), lambda: compute(p, s, v)), v), p)
               for p, s in probes):
            return v
    return None


def _rows(p: ProbeEvidence) -> int:
    return p.x.numel() // max(p.x.shape[-1], 1) if p.x.ndim else 0


def _has_weight(ev: Evidence) -> bool:
    return "weight" in (ev.structure.get("mapping") or {}).values() if ev.structure else True


@detector("subtracts-mean", "eps-outside-sqrt", "missing-eps", "norm-not-rms", "wrong-normalized-dims",
          "missing-affine", "unused-parameter", "wrong-eps", "extra-bias", "detached-statistics", "wrong-backward")
def rmsnorm_formula(ev: Evidence):
    if not is_rms_task(ev.task):
        return
    probes = _searchable(ev)
    if not probes or all(forward_ok(p) and backward_ok(p) for p in ran(ev)):
        return
    v = explain(probes, ev.memo)
    if v is None:
        return
    for pitfall, what in v.pitfalls(_has_weight(ev)):
        yield pitfall, _formula_evidence(probes, v, what, ev.memo)
    if v == RIGHT:
        yield from _detached(probes)
    else:
        yield from _wrong_backward(probes, v)


def _formula_evidence(probes, v: Variant, what: str, memo=None) -> str:
    """Name the probe where the variant is furthest from the reference, with both errors."""
    def fitted(p, s):  # the formula as explain() computed it, kept in the judge process
        return fit(out_of(p), kept(memo, ("rmsnorm", p.name, s, v), lambda: compute(p, s, v)), v)

    # A fitted bias explains any single row: the evidence comes from a probe of several.
    shown = [ps for ps in probes if _rows(ps[0]) > 1] if v.bias else []
    probe, s = max(shown or probes, key=lambda ps: error(fitted(*ps), ps[0].expected["out"]))
    got = out_of(probe)
    off = error(got, probe.expected["out"])
    miss = f"has {nonfinite(got)}" if off == float("inf") else f"is off the reference by {fmt(off)} (relative)"
    return f"probe {probe.name}: output {miss}, within {fmt(error(got, fitted(probe, s)))} of the formula with {what}"


def _wrong_backward(probes, v: Variant):
    """Forward explained by a wrong formula; are the gradients that formula's? (A fitted bias is a
    constant: it moves no input gradient.) If not, backward is a second mistake."""
    for p, s in probes:
        got = (p.got or {}).get("grad_input")
        if got is None or "grad_input" not in p.expected:
            continue
        want = input_grad(p, lambda x: compute(p, s, v, x=x))
        if not close(got, want, p) and torch.isfinite(want).all():
            yield "wrong-backward", (
                f"probe {p.name}: the input gradient is off the gradient of the formula forward computes "
                f"by {fmt(error(got, want))} (relative)")
            return


def _detached(probes):
    """Forward right, input gradient wrong: does it equal the gradient with the mean square detached?"""
    failing = [(p, s) for p, s in probes if not backward_ok(p) and (p.got or {}).get("grad_input") is not None]
    if not failing:
        return
    if all(close(p.got["grad_input"], input_grad(p, lambda x, p=p, s=s: compute(p, s, RIGHT, True, x=x)), p)
           for p, s in failing):
        p = failing[0][0]
        off = error(p.got["grad_input"], p.expected["grad_input"])
        yield "detached-statistics", (
            f"probe {p.name}: output right, input gradient off by {fmt(off)} (relative); it equals the "
            f"gradient with the mean square detached")
