"""Behavioural detector for layernorm-backward: which hand-written backward did the submission compute?

The input gradient: the judge recomputes it in float64 from each probe's input, weight and upstream
gradient under every combination of the known mistakes (the mean terms dropped, the variance term
dropped) and names the simplest one that reproduces the submission's on every probe whose forward is
right. With x̂ = (x - mean) * rstd and dx̂ = dy * weight (means over the last dim):
    dx = rstd * (dx̂ - mean(dx̂) - x̂ * mean(dx̂ * x̂)),  dweight = sum(dy * x̂),  dbias = sum(dy)
The weight and bias gradients: a reduction other than the sum over every row (a mean, a sum over
the batch dim then a mean over the sequence) scales both by one factor per probe; fitted per probe.
A forward mistake is the fallback's to name (wrong-output): these share the right forward.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from grader.grading.probes import present
from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.pitfalls.measure import backward_ok, close, construction, detector, error, fmt, forward_ok, ran


@dataclass(frozen=True)
class Variant:
    """One hand-written backward; the default is the right one."""

    mean_terms: bool = True
    variance_term: bool = True

    def pitfalls(self) -> list[tuple[str, str]]:
        found = []
        if not self.mean_terms:
            found.append(("missing-mean-terms", "without -mean(dx̂)"))
        if not self.variance_term:
            found.append(("missing-variance-term", "without -x̂ * mean(dx̂ * x̂)"))
        return found


VARIANTS = sorted((Variant(m, v) for m, v in itertools.product((True, False), (True, False))),
                  key=lambda v: len(v.pitfalls()))
RIGHT = VARIANTS[0]


def input_gradient(p: ProbeEvidence, eps: float, v: Variant) -> torch.Tensor:
    """The variant's input gradient in float64, pulled back through the probe's layout to the leaf
    (an expanded input gathers its rows), as the child's grad_input is."""
    leaf = p.x.detach().double().requires_grad_(True)
    y = present(leaf, p.spec.layout)
    x = y.detach()
    dy = p.upstream.detach().double()
    mean = x.mean(-1, keepdim=True)
    rstd = 1.0 / torch.sqrt(((x - mean) ** 2).mean(-1, keepdim=True) + eps)
    xhat = (x - mean) * rstd
    dxhat = dy * p.params["weight"].detach().double()
    dx = dxhat
    if v.mean_terms:
        dx = dx - dxhat.mean(-1, keepdim=True)
    if v.variance_term:
        dx = dx - xhat * (dxhat * xhat).mean(-1, keepdim=True)
    (grad,) = torch.autograd.grad((y * (rstd * dx)).sum(), leaf)
    return grad


def _eps(ev: Evidence, p: ProbeEvidence) -> float | None:
    args, _ = construction(ev, p)
    rest = [*args[1:], *ev.task.function.defaults[max(len(args) - 1, 0):]]
    return float(rest[0]) if rest and isinstance(rest[0], (int, float)) else None


def _searchable(ev: Evidence) -> list[tuple[ProbeEvidence, float]]:
    """Probes whose forward is right and whose backward ran, with their eps."""
    chosen = []
    for p in ran(ev):
        eps = _eps(ev, p)
        if eps is not None and "backward" in p.spec.checks and forward_ok(p) and "weight" in p.params:
            chosen.append((p, eps))
    return chosen


@detector("missing-mean-terms", "missing-variance-term", "wrong-param-reduction")
def layernorm_backward(ev: Evidence):
    if getattr(ev.task, "kind", "module") != "function" or ev.task.function is None:
        return
    probes = _searchable(ev)
    if not probes or all(backward_ok(p) for p, _ in probes):
        return
    yield from _input_terms([(p, eps) for p, eps in probes if (p.got or {}).get("grad_input") is not None])
    yield from _param_reduction([p for p, _ in probes])


def _input_terms(probes):
    """The simplest variant whose input gradient matches the submission's on every probe."""
    if not probes:
        return
    for v in VARIANTS:
        if all(close(p.got["grad_input"], input_gradient(p, eps, v), p) for p, eps in probes):
            break
    else:
        return
    for pitfall, what in v.pitfalls():
        p, eps = max(probes, key=lambda pe: error(pe[0].got["grad_input"], pe[0].expected["grad_input"]))
        off = error(p.got["grad_input"], p.expected["grad_input"])
        fit = error(p.got["grad_input"], input_gradient(p, eps, v))
        yield pitfall, (f"probe {p.name}: input gradient off the reference by {fmt(off)} (relative), within "
                        f"{fmt(fit)} of the gradient {what}")


def _param_reduction(probes):
    """Both parameter gradients the sums times one factor per probe, not 1 on some probe: a mean
    where a sum belongs (over all rows, or over some batch dims)."""
    scaled = []
    for p in probes:
        factor = _common_factor(p)
        if factor is None:
            return
        if not close(p.got["grad/weight"], p.expected["grad/weight"], p):
            scaled.append((p, factor))
    if scaled:
        p, factor = scaled[0]
        rows = p.x.numel() // p.x.shape[-1]
        yield "wrong-param-reduction", (
            f"probe {p.name}: the weight and bias gradients are {factor:.3g} times the sums over its {rows} rows "
            f"(1/{1 / factor:.3g}: a mean where the sum belongs)" if factor > 0 else
            f"probe {p.name}: the weight and bias gradients are {factor:.3g} times the sums over its {rows} rows")


def _common_factor(p: ProbeEvidence) -> float | None:
    """c with got ≈ c * expected for the weight's and the bias's gradients alike, or None."""
    got = p.got or {}
    pairs = [(got.get(k), p.expected.get(k)) for k in ("grad/weight", "grad/bias")]
    if any(g is None or e is None for g, e in pairs):
        return None
    g, e = pairs[0][0].double(), pairs[0][1].double()
    norm = float((e * e).sum())
    if norm == 0.0:
        return None
    factor = float((g * e).sum()) / norm
    return factor if all(close(g, factor * e, p) for g, e in pairs) else None
