"""Behavioural detectors of the pre- and post-norm residual sublayers (issue 19): where do the norm,
the dropout and the skip go, and how often does the sublayer run?

The judge recomputes the block in float64 from the reference's own parts, its `norm` and the
sublayer at the task's dropout site, loaded with the probe's parameters, under every arrangement of
known mistakes, and names the simplest one that reproduces the submission's outputs on every probe.
Dropout uses the submission's own mask (ProbeEvidence.mask, read by grader.grading.dropout from the
gradient at the sublayer's output): on a stochastic probe an arrangement applies it where it puts
dropout, on the branch or on the sum x + branch; on an eval-mode probe with p > 0 an arrangement
that drops in eval mode applies it too.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.pitfalls.measure import backward_ok, close, detector, error, fmt, forward_ok, out_of, ran

_NORMS = ((1, 0), (0, 1), (2, 0), (0, 2), (1, 1))  # (norms on the branch's input, norms on the sum)


@dataclass(frozen=True)
class Arrangement:
    """x + dropout(sublayer(norm(x))) (pre-norm) or norm(x + dropout(sublayer(x))) (post-norm), and
    their misplaced relatives."""

    before: int = 1  # norms applied to the branch's input
    after: int = 0  # norms applied to the sum
    skip: bool = True
    site: str = "branch"  # where dropout acts: the branch, or the sum x + branch
    twice: bool = False  # the sublayer applied twice
    eval_dropout: bool = False  # dropout in eval mode too (F.dropout without training=self.training)

    def pitfalls(self, right: "Arrangement") -> list[tuple[str, str]]:
        found = []
        places = {"before": self.before, "after": self.after}
        if self.before + self.after == 2:
            where = {(2, 0): "norm(norm(x)) on the branch's input", (0, 2): "norm(norm(...)) on the sum",
                     (1, 1): "a norm on the branch's input and another on the sum"}[(self.before, self.after)]
            found.append(("double-norm", where))
        if not {k for k, v in places.items() if v} & {k for k, v in {"before": right.before, "after": right.after}.items() if v}:
            found.append(("norm-placement", "the norm on the sum (post-norm)" if self.after else
                          "the norm on the branch's input (pre-norm)"))
        if not self.skip:
            found.append(("missing-skip", "no input added back"))
        if self.site == "sum":
            found.append(("dropout-on-skip", "dropout applied to the sum x + sublayer(...)"))
        if self.twice:
            found.append(("double-sublayer", "the sublayer applied twice"))
        if self.eval_dropout:
            found.append(("dropout-in-eval", "dropout applied in eval mode too"))
        return found


PRE, POST = Arrangement(1, 0), Arrangement(0, 1)


def arrangements(right: Arrangement) -> list[Arrangement]:
    """Every arrangement, the simplest (fewest mistakes) first; the right one is first of all."""
    found = {Arrangement(b, a, skip, site, twice, ev)
             for (b, a), skip, site, twice, ev in itertools.product(
                 _NORMS, (True, False), ("branch", "sum"), (False, True), (False, True))
             if skip or site == "branch"}  # without a skip, dropout on the sum is dropout on the branch
    return sorted(found, key=lambda a: (len(a.pitfalls(right)), a.twice, a.site != "branch", a.eval_dropout,
                                        not a.skip, a.before, a.after))


class Parts:
    """The reference's norm and sublayer for each probe, in float64 with the probe's parameters,
    and the sublayer's outputs, computed once per (probe, arrangement's branch)."""

    def __init__(self, ev: Evidence):
        self.ev, self._modules, self._branch = ev, {}, {}

    def modules(self, p: ProbeEvidence):
        if p.name not in self._modules:
            args, kwargs = self.ev.task.build_for(p.spec).values()
            ref = self.ev.build("reference", args, kwargs).to(torch.float64)
            own = dict(ref.named_parameters())
            with torch.no_grad():
                for name, value in p.params.items():
                    if name in own and own[name].shape == value.shape:
                        own[name].copy_(value)
            self._modules[p.name] = (ref.get_submodule("norm"), ref.get_submodule(self.ev.task.dropout.site))
        return self._modules[p.name]

    def branch(self, p: ProbeEvidence, before: int, twice: bool) -> tuple[torch.Tensor, torch.Tensor]:
        key = (p.name, before, twice)
        if key not in self._branch:
            norm, sub = self.modules(p)
            x = h = p.x.detach().double()
            with torch.no_grad():
                for _ in range(before):
                    h = norm(h)
                y = sub(h)
                self._branch[key] = (x, sub(y) if twice else y)
        return self._branch[key]


def compute(parts: Parts, p: ProbeEvidence, a: Arrangement) -> torch.Tensor | None:
    """The arrangement's output on the probe, or None where it needs a mask the probe lacks."""
    spec, task = p.spec, parts.ev.task
    rate = task.dropout.p(task.build_for(spec))
    drops = task.stochastic(spec) or (a.eval_dropout and spec.mode == "eval" and rate > 0)
    if drops and p.mask is None:
        return None
    x, y = parts.branch(p, a.before, a.twice)
    if drops and tuple(p.mask.shape) != tuple(y.shape):  # the child's record, of another shape
        return None

    def dropout(t):
        return p.mask * t / (1 - rate) if drops else t

    s = (x + dropout(y) if a.skip else dropout(y)) if a.site == "branch" else dropout(x + y)
    norm, _ = parts.modules(p)
    with torch.no_grad():
        for _ in range(a.after):
            s = norm(s)
    return s


def _searchable(ev: Evidence) -> list[ProbeEvidence]:
    return [p for p in ran(ev) if not p.spec.diagnostic and not (p.error and p.verdicts.get("forward") is False)]


def _matches(parts: Parts, probes: list[ProbeEvidence], a: Arrangement, key=None) -> bool:
    """Every probe the arrangement can compute agrees (at least one can)."""
    computed = 0
    for p in probes:
        want = compute(parts, p, a)
        if want is None:
            continue
        computed += 1
        if not close(out_of(p) if key is None else p.expected[key], want, p):
            return False
    return computed > 0


@detector("norm-placement", "double-norm", "missing-skip", "dropout-on-skip", "double-sublayer", "dropout-in-eval",
          "wrong-output")
def sublayer_arrangement(ev: Evidence):
    task = ev.task
    if getattr(task, "dropout", None) is None or ev.build is None:
        return
    # A stochastic probe whose mask was refused (grader.grading.dropout) has no truth to measure an
    # error against: say why, rather than the fallback's distance from the eval-mode output.
    refused = [p for p in ev.probes.values() if p.mask_problem and p.error == p.mask_problem]  # not the child's own error
    if refused:
        yield "wrong-output", f"probe {refused[0].name}: {refused[0].error}"
    probes = _searchable(ev)
    if not probes or all(forward_ok(p) and backward_ok(p) for p in probes):
        return
    parts = Parts(ev)
    try:
        right = next((r for r in (PRE, POST) if _matches(parts, probes, r, key="out")), None)
    except (AttributeError, LookupError, RuntimeError, TypeError):  # a reference without norm or site
        return
    if right is None:
        return
    for a in arrangements(right):
        if _matches(parts, probes, a):
            break
    else:
        return
    for pitfall, what in a.pitfalls(right):
        shown = [p for p in probes if compute(parts, p, a) is not None]
        probe = max(shown, key=lambda p: error(out_of(p), p.expected["out"]))
        yield pitfall, (
            f"probe {probe.name}: output is off the reference by {fmt(error(out_of(probe), probe.expected['out']))} "
            f"(relative), within {fmt(error(out_of(probe), compute(parts, probe, a)))} of the block with {what}")
