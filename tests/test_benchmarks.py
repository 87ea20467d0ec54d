"""The benchmarks still run and print their figures (a smoke run of each, one or two repetitions).
Their numbers are never asserted here: speed targets live in the benchmarks' own output."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script, runs, figure", [
    ("startup.py", 1, r"ratio \d+\.\d+ \(goal <= 1\.6: (met|NOT met)\)"),
    ("submit.py", 1, r"ratio \d+\.\d+ \(goal <= 1\.25: (met|NOT met)\)"),
    ("grading_time.py", 2, r"warm: +\d+\.\d ms +median of 2 LayerNorm grades"),
    ("watch_latency.py", 2, r"save-to-report: median \d+\.\d ms, p90 \d+\.\d ms over 2 saves"),
    ("sandbox_layers.py", 2, r"added: +\d+\.\d\d ms on a warm job's path \(goal <= 5 ms: (met|NOT met)\)"),
    ("trusted_side.py", 1, r"forbidden call: +\d+\.\d us .*allowed op"),
])
def test_a_benchmark_prints_its_figure(script, runs, figure):
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), "--runs", str(runs)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(figure, done.stdout), done.stdout


def test_the_class_grading_benchmark_prints_its_figures():
    """A small class (12 submissions, one timeout apart, two naive runs): every figure line present."""
    done = subprocess.run([sys.executable, str(BENCHMARKS / "grade_throughput.py"), "--n", "12", "--naive", "2",
                           "--timeouts", "1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for figure in (r"throughput: \d+\.\d submissions/s", r"cpu: \d+\.\d ms per submission.*\(goal <= 60: (met|NOT met)\)",
                   r"breakdown: CLI process \d+\.\d ms, zygotes .* children \+ wardens \+ judges \d+\.\d ms",
                   r"by style \(one sandbox\): correct \d+\.\d ms, buggy \d+\.\d ms, hostile \d+\.\d ms",
                   r"timeouts \(apart\): 1 looping", r"ratio \d+\.\dx the naive grader \(goal >= 40: (met|NOT met)\)",
                   r"cached regrade of \d+ .*: \d+\.\d\d s \(\d+\.\d\d s CPU\)"):
        assert re.search(figure, done.stdout), (figure, done.stdout)
