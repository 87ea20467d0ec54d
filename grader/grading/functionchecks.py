"""The judge's checks that only a function task has (grader.grading.functiontask runs the child's side).

- A probe's backward fails when the child saw autograd compute the gradients: the engine ran inside
  the Function's forward or backward, or apply's output came from one of autograd's own nodes.
  The numbers are then right by construction, so the probe's gradient comparison cannot tell.
- `gradcheck`: torch.autograd.gradcheck in float64, as the child ran it on the submission's apply.
- `forbidden-ops` adds the source's own uses of autograd and the runtime sign on any probe.
All of it is the child's report, validated by grader.grading.answer: it can only fail a check.
"""
from __future__ import annotations

from grader.grading import wording
from grader.grading.forbidden import autograd_uses
from grader.results import CheckResult


def autograd_sign(report: dict, class_name: str, lang: str = "en") -> str:
    """Why a probe's gradients are autograd's rather than the submission's backward, or ""."""
    if report.get("autograd_runs"):
        return wording.say(lang, "autograd's engine ran {n} time(s) inside {name} (torch.autograd.grad, .backward() "
                           "or torch.func in forward or backward): these gradients are autograd's, not your "
                           "backward's", n=report["autograd_runs"], name=class_name)
    if report.get("grad_fn"):
        return wording.say(lang, "apply's output came from {node}, not from {name}'s own backward: these gradients "
                           "are autograd's", node=report["grad_fn"], name=class_name)
    return ""


def gradcheck(j, check: CheckResult) -> None:
    """`j` is a grader.grading.judge.Judgement."""
    lang = str(j.job.get("lang") or "en")
    found = j.meta.get("gradcheck")
    if found is None:
        check.message = wording.say(lang, "gradcheck did not run")
        return
    check.passed = found["passed"]
    check.message = wording.say(lang, "torch.autograd.gradcheck (float64) failed: {why}", why=found["message"]) \
        if not check.passed else ""


def forbidden_findings(j) -> list[str]:
    """Where the source runs autograd, and the probes on which the child saw it run."""
    lang = str(j.job.get("lang") or "en")
    parts = [wording.say(lang, "line {line}: {text}", line=f.line, text=f.text) for f in autograd_uses(j.job["source"])]
    signs = [name for name, report in j.meta.get("probes", {}).items() if autograd_sign(report, "")]
    if signs:
        shown = ", ".join(signs[:4]) + (wording.say(lang, " and {n} more", n=len(signs) - 4) if len(signs) > 4 else "")
        parts.append(wording.say(lang, "autograd computed the gradients on probes {names}", names=shown))
    return parts
