"""Entries that do nothing but answer: the sandbox's own cost, measured by benchmarks/grading_time.py.

Preload this module (Sandbox(preload=("grader.sandbox.selftest",))) to use them as child_entry and
judge_entry.
"""
from __future__ import annotations


def child_noop(job: dict, send) -> None:
    send({}, {})


def judge_status(job: dict, outcome) -> dict:
    return {"status": outcome.status, "detail": outcome.detail, "child_s": outcome.duration_s}
