"""Behavioural LayerNorm detectors: which wrong formula did the submission compute?

The judge recomputes layer norm in float64 from each probe's input and loaded parameters under
every combination of the known mistakes (unbiased variance, eps placement, normalized dims, missing
affine, an extra ReLU; and, alone, an eps value other than the one the module was built with) and
finds the simplest combination that reproduces the submission's outputs on every ordinary probe. Compound mistakes are named together; when no combination fits, this
detector says nothing (diagnose() then reports wrong-output with the worst elements). The offset
probe (x + 1e4, float32) is left out of the search: there only the one-pass variance breaks.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import torch

from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.pitfalls.measure import (
    backward_ok, close, construction, detector, error, fmt, forward_ok, input_grad, kept, nonfinite, out_of, ran,
    eps_by_rule, tol,
)
from grader.grading.probes import OFFSET
from grader.pitfalls.rmsnorm import is_rms_task

DEFAULT_EPS = 1e-5  # nn.LayerNorm's, when a probe's construction does not name one


@dataclass(frozen=True)
class Variant:
    """One way to compute layer norm; the default is the right one."""

    unbiased: bool = False
    eps: str = "inside"  # inside | outside (added to the std) | missing
    # trailing | last (only the last dim) | last2 (at most the last two) | dim0 (the batch) | dim1 |
    # features (all but batch)
    dims: str = "trailing"
    affine: bool = True
    relu: bool = False
    # Which eps: the one the module was built with (None), or a constant used always ("fixed":
    # the argument ignored) or only when none is given ("default": a default other than 1e-5);
    # "squared": eps**2; "keyword-only": an eps given by position is dropped (a signature that
    # takes something else second).
    eps_rule: tuple[str, float] | None = None
    bias: bool = True  # the bias added (False: held, never used)
    # The variance over other dims than the mean ("last" / "trailing"), around its own mean
    # ("own": x.var(dims)) or around the mean over the mean's dims ("mean": ((x - mean)**2).mean(dims)).
    var_dims: str | None = None
    var_centre: str = "own"

    def eps_for(self, s: "Setting") -> float:
        return eps_by_rule(self.eps_rule, s)

    def pitfalls(self) -> list[tuple[str, str]]:
        """(pitfall id, what this variant does) for each way it departs from the right formula."""
        found = []
        if self.unbiased:
            found.append(("unbiased-variance", "the variance divided by n-1"))
        if self.eps != "inside":
            what = "eps added to the std" if self.eps == "outside" else "no eps"
            found.append(("eps-outside-sqrt" if self.eps == "outside" else "missing-eps", what))
        if self.dims != "trailing" and self.var_dims is None:
            found.append(("wrong-normalized-dims", f"the statistics taken over {_DIMS_TEXT[self.dims]}"))
        if self.var_dims is not None:
            found.append(("wrong-normalized-dims", f"the mean over {_DIMS_TEXT[self.dims]} and the variance "
                          f"over {_DIMS_TEXT[self.var_dims]}"))
        if not self.affine:
            found.append(("missing-affine", "no weight and bias applied"))
        elif not self.bias:
            found.append(("unused-parameter", "the bias never added"))
        if self.relu:
            found.append(("extra-activation", "a ReLU applied to the output"))
        if self.eps_rule is not None:
            rule, value = self.eps_rule
            found.append(("wrong-eps", _EPS_TEXT[rule].format(value=value, default=DEFAULT_EPS)))
        return found


_EPS_TEXT = {"fixed": "eps = {value:g} whatever eps the module was built with",
             "default": "a default eps of {value:g} instead of {default:g}",
             "squared": "eps squared (eps**2 added to the variance)",
             "keyword-only": "an eps given by position ignored (LayerNorm(n, 1e-3) must use 1e-3)",
             "floor": "eps raised to at least {value:g} (a smaller eps ignored)"}
_DIMS_TEXT = {"trailing": "the normalized dims", "last": "the last dim only", "last2": "at most the last two dims",
              "dim0": "dim 0 (across the batch)",
              "dim1": "dim 1", "features": "every dim but the batch"}
# eps values learners bring from elsewhere: nn.LayerNorm's own hard-coded, ViT and T5 (1e-6),
# BERT (1e-12), Keras (1e-3), and 1e-8 from optimisers. Tried with the otherwise right formula only.
EPS_RULES = [("fixed", DEFAULT_EPS), ("fixed", 1e-6), ("fixed", 1e-12),
             *(("default", value) for value in (1e-6, 1e-12, 1e-3, 1e-8)),
             ("squared", 0.0), ("keyword-only", DEFAULT_EPS), ("floor", DEFAULT_EPS)]
_BASE = [Variant(u, e, d, a, r) for u, e, d, a, r in itertools.product(
    (False, True), ("inside", "outside", "missing"), ("trailing", "last", "last2", "dim0", "dim1", "features"),
    (True, False), (False, True))]
# The newer mistakes (eps rules, an unused bias, mean and variance over different dims) are tried
# alone and beside one other mistake: enough to name a pair, without multiplying the search.
_SPLITS = [{"dims": m, "var_dims": v, "var_centre": c} for m, v in (("last", "trailing"), ("trailing", "last"))
           for c in ("own", "mean")]
_EXTRA = [{"eps_rule": rule} for rule in EPS_RULES] + [{"bias": False}] + _SPLITS
# Simplest first: the first variant that fits names the fewest mistakes.
VARIANTS = sorted(
    [*_BASE, *(dataclasses.replace(base, **extra) for extra in _EXTRA for base in _BASE
               if len(base.pitfalls()) <= 1 and not (base.dims != "trailing" and "dims" in extra)
               and not (not base.affine and "bias" in extra))],
    key=lambda v: len(v.pitfalls()),
)
RIGHT = VARIANTS[0]


@dataclass(frozen=True)
class Setting:
    """What a probe's module was built with: the normalized dims and eps."""

    k: int  # len(normalized_shape)
    eps: float
    eps_given: bool = True  # built with an explicit eps (else nn.LayerNorm's default applies)
    eps_positional: bool = False  # given as the second argument, LayerNorm(n, 1e-3)


def setting(ev: Evidence, probe: ProbeEvidence) -> Setting | None:
    args, kwargs = construction(ev, probe)
    shape = args[0] if args else kwargs.get("normalized_shape")
    eps = kwargs.get("eps", args[1] if len(args) > 1 else DEFAULT_EPS)
    given, positional = "eps" in kwargs or len(args) > 1, len(args) > 1
    if isinstance(shape, int):
        return Setting(1, float(eps), given, positional)
    if isinstance(shape, tuple) and shape and all(isinstance(d, int) for d in shape):
        return Setting(len(shape), float(eps), given, positional)
    return None


def compute(probe: ProbeEvidence, s: Setting, v: Variant, detach: str = "",
            x: torch.Tensor | None = None) -> torch.Tensor | None:
    """The variant's output in float64 on the probe's input (or on `x`, to differentiate); None
    when the input has fewer dims than the normalized shape. `detach` may hold "mean" and/or "var".
    (Where a variant's dims coincide with the right ones on some probe, it computes the same
    formula there; the search tries simpler variants first, so that names nothing extra.)"""
    x = probe.x.detach().double() if x is None else x
    dims = _dims(x.ndim, s.k, v.dims)
    if dims is None:
        return None
    mean = x.mean(dims, keepdim=True)
    if v.var_dims is None:
        var = x.var(dims, keepdim=True, correction=1 if v.unbiased else 0)
    else:
        var_dims = _dims(x.ndim, s.k, v.var_dims)
        var = (x.var(var_dims, keepdim=True, correction=1 if v.unbiased else 0) if v.var_centre == "own"
               else ((x - mean) ** 2).mean(var_dims, keepdim=True))
    mean = mean.detach() if "mean" in detach else mean
    var = var.detach() if "var" in detach else var
    eps = v.eps_for(s)
    if v.eps == "inside":
        y = (x - mean) / torch.sqrt(var + eps)
    else:
        y = (x - mean) / (torch.sqrt(var) + (eps if v.eps == "outside" else 0.0))
    if v.affine:
        shape = x.shape[x.ndim - s.k:]
        y = y * _param(probe, "weight", shape, 1.0) + (_param(probe, "bias", shape, 0.0) if v.bias else 0.0)
    return torch.relu(y) if v.relu else y


def _dims(ndim: int, k: int, how: str) -> tuple[int, ...] | None:
    if k > ndim:
        return None
    trailing = tuple(range(ndim - k, ndim))
    if ndim < 2:
        return trailing
    return {"trailing": trailing, "last": (ndim - 1,), "last2": trailing[-2:], "dim0": (0,), "dim1": (1,),
            "features": tuple(range(1, ndim))}[how]


def _param(probe: ProbeEvidence, name: str, shape, fill: float) -> torch.Tensor:
    value = probe.params.get(name)
    return value.detach().double() if value is not None else torch.full(tuple(shape), fill, dtype=torch.float64)


# The parameters a norm's formula uses (compute() fills in a missing one). A module with others is
# no norm: searching every variant on a residual block's probes took its judge ~40 ms and could
# only name something wrongly.
NORM_PARAMS = {"weight", "bias"}


def _searchable(ev: Evidence) -> list[tuple[ProbeEvidence, Setting]]:
    """Ordinary probes with outputs and seeded parameters (not the offset or fresh-module ones) of
    a module whose parameters are a norm's."""
    chosen = []
    for probe in ran(ev):
        s = setting(ev, probe)
        if s and probe.spec.input.kind != "offset" and probe.spec.params != "init" and set(probe.params) <= NORM_PARAMS:
            chosen.append((probe, s))
    return chosen


def explain(probes: list[tuple[ProbeEvidence, Setting]], memo=None) -> Variant | None:
    """The simplest variant reproducing every probe's output, or None."""
    for v in VARIANTS:
        # close() is False where the variant cannot be computed (None).
        if all(close(out_of(probe), kept(memo, ("layernorm", probe.name, s, v), lambda: compute(probe, s, v)), probe)
               for probe, s in probes):
            return v
    return None


@detector("unbiased-variance", "eps-outside-sqrt", "missing-eps", "wrong-normalized-dims",
          "missing-affine", "extra-activation", "unstable-variance", "detached-statistics", "wrong-eps",
          "unused-parameter", "wrong-backward")
def layernorm_formula(ev: Evidence):
    if is_rms_task(ev.task):  # an RMS norm's formulas are grader.pitfalls.rmsnorm's
        return
    probes = _searchable(ev)
    if not probes or all(forward_ok(p) and backward_ok(p) for p in ran(ev)):
        return
    v = explain(probes, ev.memo)
    if v is None:
        return
    for pitfall, what in v.pitfalls():
        yield pitfall, _formula_evidence(probes, v, pitfall, what, ev.memo)
    yield from _unstable(ev, v)
    if v == RIGHT:
        yield from _detached(probes)
    else:
        yield from _wrong_backward(probes, v, ev.memo)


def _wrong_backward(probes, v: Variant, memo=None):
    """Forward explained by a wrong formula; are the gradients that formula's? If not, backward is
    a second mistake (a hand-written backward, a detached path), named beside the first."""
    for p, s in probes:
        got = (p.got or {}).get("grad_input")
        if got is None or "grad_input" not in p.expected:
            continue
        want = kept(memo, ("layernorm-grad", p.name, s, v), lambda: input_grad(p, lambda x: compute(p, s, v, x=x)))
        if not close(got, want, p) and torch.isfinite(want).all():
            yield "wrong-backward", (
                f"probe {p.name}: the input gradient is off the gradient of the formula forward computes "
                f"by {fmt(error(got, want))} (relative)")
            return


def _formula_evidence(probes, v: Variant, pitfall: str, what: str, memo=None) -> str:
    """Name the probe where the variant is furthest from the reference, with both errors."""
    def formula(ps):  # as explain() computed it, kept in the judge process
        return kept(memo, ("layernorm", ps[0].name, ps[1], v), lambda: compute(ps[0], ps[1], v))

    probe, s = max(probes, key=lambda ps: error(formula(ps), ps[0].expected["out"]))
    got = out_of(probe)
    off = error(got, probe.expected["out"])
    miss = f"has {nonfinite(got)}" if off == float("inf") else f"is off the reference by {fmt(off)} (relative)"
    text = f"probe {probe.name}: output {miss}, within {fmt(error(got, formula((probe, s))))} of the formula with {what}"
    if pitfall == "unbiased-variance":
        n = math.prod(probe.x.shape[probe.x.ndim - s.k:])
        text += f" (n={n}: ratio sqrt((n-1)/n) = {math.sqrt((n - 1) / n):.4f})"
    return text


def _offsets(ev: Evidence) -> list[tuple[ProbeEvidence, Setting]]:
    return [(p, s) for p in ev.probes.values() if p.spec.input.kind == "offset"
            and p.spec.input.dtype == "float32" and (s := setting(ev, p))]


def _unstable(ev: Evidence, v: Variant):
    """Right on ordinary rows, wrong where rows share a large offset: E[x^2]-E[x]^2 cancelled."""
    for probe, s in _offsets(ev):
        got = out_of(probe)
        if got is None:
            continue
        want = compute(probe, s, v)
        if want is not None and not close(got, want, probe):
            detail = nonfinite(got) if not torch.isfinite(got).all() else f"off by {fmt(error(got, want))}"
            yield "unstable-variance", (
                f"probe {probe.name} (rows offset by {OFFSET:.0e}, float32): {detail} "
                f"(tolerance {tol(probe):.0e}), while every ordinary probe matches")
            return


def _detached(probes):
    """Forward right, input gradient wrong: does it match the gradient with the statistics detached?"""
    failing = [(p, s) for p, s in probes if not backward_ok(p) and (p.got or {}).get("grad_input") is not None]
    if not failing:
        return
    for detach in ("mean var", "mean", "var"):
        if all(close(p.got["grad_input"], _input_grad(p, s, detach), p) for p, s in failing):
            p = failing[0][0]
            off = error(p.got["grad_input"], p.expected["grad_input"])
            yield "detached-statistics", (
                f"probe {p.name}: output right, input gradient off by {fmt(off)} (relative); it equals "
                f"the gradient with the {' and '.join(detach.split())} detached")
            return


def _input_grad(probe: ProbeEvidence, s: Setting, detach: str) -> torch.Tensor:
    return input_grad(probe, lambda x: compute(probe, s, RIGHT, detach, x=x))
