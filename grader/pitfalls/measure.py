"""Shared measuring tools for the detectors: the detector registry, NaN-aware closeness and the
facts of a probe (its tolerance, construction, dtype).

A detector asks "does the submission's tensor equal this candidate's?", where the candidate may
itself be NaN (a missing eps on a constant row is 0/0): positions that are non-finite in both count
as equal, unlike in grader.grading.compare, which judges against a finite truth.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import torch

from grader.grading.compare import MIN_SCALE, tolerance
from grader.grading.probes import key_kind, present
from grader.pitfalls.evidence import Evidence, ProbeEvidence

Shown = tuple[str, str]  # (pitfall id, evidence)
Detector = Callable[[Evidence], Iterable[Shown]]
# (the pitfall ids a detector can show, the detector); diagnose() runs those the task applies.
DETECTORS: list[tuple[frozenset[str], Detector]] = []


def detector(*ids: str) -> Callable[[Detector], Detector]:
    def register(fn: Detector) -> Detector:
        DETECTORS.append((frozenset(ids), fn))
        return fn

    return register


def tol(probe: ProbeEvidence) -> float:
    """The probe's named tolerance, relative to the scale of the tensor compared."""
    return tolerance(probe.spec.tolerance, probe.spec.input.dtype)


def error(got: torch.Tensor, want: torch.Tensor) -> float:
    """Max abs difference over the expected tensor's scale; inf when the non-finite positions
    differ or the shapes do; 0 for two equal tensors (NaN in the same places included)."""
    if tuple(got.shape) != tuple(want.shape):
        return float("inf")
    got, want = got.detach().double(), want.detach().double()
    if got.numel():
        worst = (got - want).abs().max().item()
        if math.isfinite(worst):
            # Every element of both is finite, so the masks below would select them all: the usual
            # case (a passing grade measures every probe's tensors), without the masking work.
            return worst / max(want.abs().max().item(), MIN_SCALE)
    got_bad, want_bad = ~torch.isfinite(got), ~torch.isfinite(want)
    if not torch.equal(got_bad, want_bad):
        return float("inf")
    finite = ~want_bad
    if not finite.any():
        return 0.0
    scale = max(want[finite].abs().max().item(), MIN_SCALE)
    return (got[finite] - want[finite]).abs().max().item() / scale


def kept(memo, key, compute):
    """compute(), or in the judge process (`memo`, Evidence.memo) its value kept from an earlier job
    of the same task and seed. Only for values made of the truth's inputs and trusted code alone: a
    formula variant's output on a probe (a failing submission's search tries most of them), a
    mutant's whole run (grader.pitfalls.mutantmatch)."""
    if memo is None:
        return compute()
    if key not in memo:
        value = compute()
        memo.keep(key, value)
        return value
    return memo[key]


def close(got: torch.Tensor | None, want: torch.Tensor | None, probe: ProbeEvidence) -> bool:
    if got is None or want is None:
        return False
    # Ruled out on one element first: a failing submission's formula search tries ~300 variants
    # against it, nearly all off at the first element (~10 ms of a buggy job's judging, in tensor ops).
    tolerance_ = tol(probe)
    if tuple(got.shape) != tuple(want.shape) or _first_apart(got, want, tolerance_):
        return False
    return error(got, want) <= tolerance_


def _first_apart(got: torch.Tensor, want: torch.Tensor, tolerance_: float) -> bool:
    """Whether the first elements alone put error(got, want) above the tolerance: with every
    element of `want` finite, error() is at least |got[0] - want[0]| / scale. Each tensor's first
    element (and `want`'s scale) is computed once and kept on the tensor: the judge's own objects,
    the searched variants' outputs kept across jobs (kept())."""
    g, w = _first(got, False), _first(want, True)
    return g is not None and w is not None and abs(g[0] - w[0]) > tolerance_ * w[1] * (1 + 1e-9)


def _first(t: torch.Tensor, with_scale: bool):
    """(the first element as a double, the scale error() divides by or None), or None when
    empty, not finite, or (with_scale) not finite everywhere."""
    key = "_dlprep_first_scaled" if with_scale else "_dlprep_first"
    found = t.__dict__.get(key, _UNSET)
    if found is _UNSET:
        found = None
        flat = t.detach().reshape(-1)
        if flat.numel():
            first = flat[0].double().item()
            if math.isfinite(first):
                if not with_scale:
                    found = (first, None)
                elif bool(torch.isfinite(flat).all()):
                    found = (first, max(flat.double().abs().max().item(), MIN_SCALE))
        t.__dict__[key] = found
    return found


_UNSET = object()


def out_of(probe: ProbeEvidence) -> torch.Tensor | None:
    return (probe.got or {}).get("out")


def forward_ok(probe: ProbeEvidence) -> bool:
    """Every output within tolerance: the probe's, and each earlier step's of a call sequence."""
    if "forward" not in probe.verdicts:
        got = probe.got or {}
        probe.verdicts["forward"] = all(close(got.get(k), probe.expected[k], probe) for k in keys_of(probe, "out"))
    return probe.verdicts["forward"]


def keys_of(probe: ProbeEvidence, kind: str) -> list[str]:
    """The expected keys holding outputs, gradients or buffers (grader.grading.probes.key_kind),
    every step's of a call sequence, in step order."""
    return [k for k in probe.expected if key_kind(k) == kind]


def grad_keys(probe: ProbeEvidence) -> list[str]:
    return keys_of(probe, "grad")


def state_ok(probe: ProbeEvidence) -> bool:
    """Every buffer the probe compares (after each step) within tolerance."""
    if "state" not in probe.verdicts:
        got = probe.got or {}
        probe.verdicts["state"] = all(close(got.get(k), probe.expected[k], probe) for k in keys_of(probe, "buffer"))
    return probe.verdicts["state"]


def backward_ok(probe: ProbeEvidence) -> bool:
    if "backward" not in probe.verdicts:
        got = probe.got or {}
        probe.verdicts["backward"] = all(close(got.get(k), probe.expected[k], probe) for k in grad_keys(probe))
    return probe.verdicts["backward"]


def ran(ev: Evidence) -> list[ProbeEvidence]:
    """The probes whose forward produced an output, in task order."""
    return [p for p in ev.probes.values() if out_of(p) is not None]


def input_grad(probe: ProbeEvidence, forward: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """dL/dx of a float64 recomputation `forward(x)` on the probe's input, for the loss the child's
    backward differentiates, L = sum(out * upstream) (see grader.grading.probes.backward)."""
    x = probe.x.detach().double().requires_grad_(True)
    (grad,) = torch.autograd.grad((forward(present(x, probe.spec.layout)) * probe.upstream.double()).sum(), x)
    return grad


def construction(ev: Evidence, probe: ProbeEvidence) -> tuple[tuple, dict]:
    return ev.task.build_for(probe.spec).values()


def fmt(value: float) -> str:
    return "NaN/inf" if value == float("inf") else f"{value:.2g}"


def nonfinite(t: torch.Tensor) -> str:
    """'12/64 NaN or inf' for messages."""
    return f"{int((~torch.isfinite(t)).sum())}/{t.numel()} NaN or inf"


def eps_by_rule(eps_rule: tuple[str, float] | None, s) -> float:
    """The eps a norm formula variant uses on a setting (s: eps, eps_given, eps_positional): the
    argument, or a constant always ("fixed") or only when none is given ("default"), eps**2
    ("squared"), a positional eps dropped ("keyword-only"), or raised to at least a value ("floor")."""
    if eps_rule is None:
        return s.eps
    rule, value = eps_rule
    if rule == "squared":
        return s.eps ** 2
    if rule == "keyword-only":
        return value if s.eps_positional else s.eps
    if rule == "floor":
        return max(s.eps, value)
    return value if rule == "fixed" or not s.eps_given else s.eps
