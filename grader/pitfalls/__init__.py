"""Pitfall diagnosis: name the mistake behind a failed submission.

The catalogue (registry.py) and the static rules (static.py) are plain Python; the behavioural
detectors need torch, so `diagnose` imports them on first use and the rest of dlprep can read the
catalogue without loading torch.
"""
from __future__ import annotations

__all__ = ["diagnose"]


def diagnose(ev):
    """The pitfalls shown by the evidence (grader.pitfalls.evidence.Evidence), as PitfallResults."""
    from grader.pitfalls.diagnosis import diagnose as run

    return run(ev)
