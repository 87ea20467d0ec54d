"""Pitfall diagnosis: name the mistake behind a failed submission.

The catalogue (registry.py) and the static rules (static.py) are plain Python; the behavioural
detectors need torch, so `diagnose` imports them on first use and the rest of dlprep can read the
catalogue without loading torch.

May import: grader.results, grader.bank, grader.grading.compare, grader.grading.probes, grader.grading.checks, grader.grading.forbidden, grader.grading.stateful
Must not be imported by: grader.bank (except the torch-free catalogue, registry.py), grader.practice, grader.sandbox.
"""
from __future__ import annotations

__all__ = ["diagnose"]


def diagnose(ev):
    """The pitfalls shown by the evidence (grader.pitfalls.evidence.Evidence), as PitfallResults."""
    from grader.pitfalls.diagnosis import diagnose as run

    return run(ev)
