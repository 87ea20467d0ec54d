"""Per-submission grading time with the warm zygote, and the cold path for comparison.

Warm: one Sandbox, a correct LayerNorm graded N times through grade_source (hand the job to the
waiting, locked-down child, run every probe, reap, judge, reply); the median is the figure. Goal:
<= 60 ms on the 2-core machine kind. Also the sandbox alone: the same round trip with a child and a
judge that do nothing. Cold: a fresh Sandbox (a `python -I` importing torch, the layer probe) and its
first grade, as a one-off `dlprep submit` pays it. Run: python benchmarks/grading_time.py
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.bank.catalog import load_catalog  # noqa: E402
from grader.sandbox import Sandbox  # noqa: E402
from grader.grading.submit import grade_source  # noqa: E402

GOAL_MS = 60.0
LAYERNORM = '''
import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
'''


def grade_ms(sandbox: Sandbox, task) -> float:
    start = time.perf_counter()
    result = grade_source(LAYERNORM, "layernorm.py", task, sandbox)
    if result.verdict != "pass":
        raise SystemExit(f"the benchmark's LayerNorm did not pass: {result.error}")
    return (time.perf_counter() - start) * 1000


def noop_ms(sandbox: Sandbox) -> float:
    job = {"child_entry": "grader.sandbox.selftest:child_noop", "judge_entry": "grader.sandbox.selftest:judge_status"}
    start = time.perf_counter()
    if sandbox.run(job)["status"] != "ok":
        raise SystemExit("the sandbox's empty job did not end ok")
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    task = load_catalog().tasks["layernorm"]
    checks = len(task.spec.drawn().probes)  # the explicit probes and those drawn for the task's seed

    start = time.perf_counter()
    with Sandbox(preload=("grader.sandbox.selftest",)) as sandbox:
        sandbox.layers()
        ready_ms = (time.perf_counter() - start) * 1000
        first = grade_ms(sandbox, task)
        cold_ms = (time.perf_counter() - start) * 1000
        warm = [grade_ms(sandbox, task) for _ in range(args.runs)]
        empty = [noop_ms(sandbox) for _ in range(args.runs)]
        layers = sandbox.layers()
    median = statistics.median(warm)
    on = ", ".join(name for name, state in layers.items() if state == "on")
    print(f"layers on: {on}")
    print(f"cold:    {cold_ms:7.0f} ms  (zygote ready in {ready_ms:.0f} ms: torch import + layer probe; first grade {first:.0f} ms)")
    print(f"warm:    {median:7.1f} ms  median of {args.runs} LayerNorm grades (min {min(warm):.1f}, max {max(warm):.1f}), "
          f"{checks} probes; goal <= {GOAL_MS:.0f} ms: {'met' if median <= GOAL_MS else 'NOT met'}")
    sandbox_ms = statistics.median(empty)
    print(f"sandbox: {sandbox_ms:7.1f} ms  median of {args.runs} empty jobs (the sandbox's own share of the above)")
    print(f"probes:  {(median - sandbox_ms) / checks:7.2f} ms  per probe ((warm - sandbox) / {checks}: child and judge work)")


if __name__ == "__main__":
    main()
