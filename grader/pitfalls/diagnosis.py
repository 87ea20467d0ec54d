"""diagnose(): the order in which the detectors speak, and which of them may.

It runs in the trusted judge. Behavioural and structural detectors come first, then
mutant matching for what they did not name, then a plain fallback (wrong-output / wrong-gradient)
when the submission fails and nothing explains it; static AST rules only add to a submission that
already fails. Only the pitfall ids the task applies are reported.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading

from grader.pitfalls import attention, detectors, layernorm, residual, rmsnorm  # noqa: F401  (they register detectors)
from grader.pitfalls import autograd, lnbackward  # noqa: F401  (function tasks' detectors)
from grader.pitfalls import batchnorm  # noqa: F401  (it registers detectors)
from grader.pitfalls import sublayer  # noqa: F401  (pre- and post-norm sublayers' detectors)
from grader.pitfalls import registry, static
from grader.pitfalls.evidence import Evidence
from grader.pitfalls.measure import DETECTORS, backward_ok, forward_ok, out_of
from grader.pitfalls.mutantmatch import match_mutants
from grader.results import PitfallResult

EVIDENCE_LINES = 3  # evidence lines kept per pitfall (a rule may fire on many lines)
# The child observes every write into the input exactly, so a static write it did not see was
# harmless (ReLU(inplace=True) on an intermediate): such findings only add their line.
CONFIRM_ONLY = {"modifies-input"}


def diagnose(ev: Evidence) -> list[PitfallResult]:
    catalogue = registry.for_task(ev.task)  # the built-in pitfalls and the task's own
    applicable = registry.applicable(ev.task)
    shown: dict[str, list[str]] = {}

    def add(found):
        for pitfall, text in found:
            if pitfall in applicable and text not in shown.setdefault(pitfall, []):
                shown[pitfall].append(text)

    for ids, detect in DETECTORS:
        if ids & set(applicable):
            add(_guarded(detect, ev))
    failing = _fails(ev) or any(catalogue[i].severity == "error" for i in shown)
    if failing:
        add(match_mutants(ev, skip=set(shown)))
        _drop_unbacked(ev, shown, catalogue)
        if not any(catalogue[i].severity == "error" for i in shown):
            add(detectors.fallback(ev))
            _drop_unbacked(ev, shown, catalogue)
        _add_static(ev, applicable, shown)
        _drop_unbacked(ev, shown, catalogue)
    return [catalogue[i].result("; ".join(shown[i][:EVIDENCE_LINES]), task=ev.task.id, lang=ev.lang)
            for i in sorted(shown, key=lambda i: (catalogue[i].severity != "error", applicable.index(i)))]


def _drop_unbacked(ev: Evidence, shown: dict[str, list[str]], catalogue=registry.PITFALLS) -> None:
    """A pitfall whose title says forward is right is not named where a forward check failed: the
    evidence would contradict its title (the gradient mistake then goes by wrong-backward)."""
    if not detectors.forward_right(ev):
        for pitfall in [i for i in shown if catalogue[i].forward_right]:
            del shown[pitfall]


def _fails(ev: Evidence) -> bool:
    """Does some graded probe fail on its own evidence (an exception, a wrong tensor, a write)?"""
    for p in ev.probes.values():
        if p.spec.diagnostic:
            continue
        if p.error or p.input_changed or p.version_bumped or out_of(p) is None:
            return True
        if ("forward" in p.spec.checks and not forward_ok(p)) or (
                "backward" in p.spec.checks and not backward_ok(p)):
            return True
    return False


def _add_static(ev: Evidence, applicable: list[str], shown: dict[str, list[str]]) -> None:
    """A static finding joins a pitfall already shown among its candidates, else names the first
    candidate the task applies (unless that one needs confirming). Not for a function task: its
    forward runs without grad and saves detached tensors on purpose, where these rules read modules."""
    if getattr(ev.task, "kind", "module") == "function":
        return
    for finding in static.scan(ev.source, ev.task.class_name):
        candidates = [i for i in finding.ids if i in applicable]
        target = next((i for i in candidates if i in shown), None)
        if target is None and candidates and candidates[0] not in CONFIRM_ONLY:
            target = candidates[0]
        if target is None:
            continue
        if finding.evidence not in shown.setdefault(target, []):
            shown[target].append(finding.evidence)


# CPU seconds one detector may take. Each is linear in the evidence (a few ms on a real answer);
# the bound stops one that is not from holding the judge until its deadline.
DETECTOR_CPU_S = 2.0


class DetectorTimeout(Exception):
    """A detector ran past DETECTOR_CPU_S: it names nothing."""


@contextlib.contextmanager
def cpu_bound(seconds: float):
    """Raise DetectorTimeout in the block once the process has used `seconds` more CPU time
    (SIGPROF, so the judge's own wall-clock alarm is left alone). On the main thread only."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise DetectorTimeout(f"over {seconds:g} s of CPU")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _guarded(detect, ev: Evidence):
    """A detector that trips over odd evidence, or runs too long, must not cost the learner their
    result."""
    try:
        with cpu_bound(DETECTOR_CPU_S):
            return list(detect(ev))
    except Exception:
        if os.environ.get("DLPREP_DEBUG"):
            raise
        return []
