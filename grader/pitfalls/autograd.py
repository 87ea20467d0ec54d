"""A function task's detector: autograd stood in for the hand-written backward.

Named from either kind of evidence, like a forbidden built-in: the source's own uses of autograd
(grader.grading.forbidden.autograd_uses: torch.autograd.grad, .backward(), torch.func, enable_grad,
...) or the child's runtime sign on a probe (grader.grading.functiontask: the engine ran inside the
Function, or apply's output came from one of autograd's own nodes), which no computed name escapes.
"""
from __future__ import annotations

from grader.grading.forbidden import autograd_uses
from grader.pitfalls.evidence import Evidence
from grader.pitfalls.measure import detector

LINES_QUOTED = 3


@detector("autograd-in-backward")
def autograd_inside(ev: Evidence):
    if getattr(ev.task, "kind", "module") != "function":
        return
    found = autograd_uses(ev.source)
    if found:
        yield "autograd-in-backward", "; ".join(f"line {f.line}: {f.text}" for f in found[:LINES_QUOTED])
    signed = [p for p in ev.probes.values() if p.autograd]
    if signed:
        more = f" (and {len(signed) - 1} more probes)" if len(signed) > 1 else ""
        yield "autograd-in-backward", f"probe {signed[0].name}: {signed[0].autograd}{more}"
