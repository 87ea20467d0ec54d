"""Shared by the benchmarks that time one command against a baseline in the same run: interleaved
runs (a busy moment hits both alike), medians, and the ratio against a goal. Figures, not pass/fail.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall_time(command: list[str]) -> float:
    """Seconds one run of `command` takes; a failing command stops the benchmark with its stderr."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def report_ratio(measured: tuple[str, list[str]], baseline: tuple[str, list[str]], runs: int, goal: float) -> None:
    """Time both commands `runs` times, interleaved, after one warm-up run each (page cache, .pyc
    files); print each median and the ratio of the medians against `goal`."""
    commands = dict([measured, baseline])
    for command in commands.values():
        wall_time(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(wall_time(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    width = max(map(len, commands))
    for name, values in times.items():
        print(f"{name:<{width}}  median {medians[name] * 1000:7.1f} ms  "
              f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f}, n={runs})")
    ratio = medians[measured[0]] / medians[baseline[0]]
    print(f"ratio {ratio:.2f} (goal <= {goal}: {'met' if ratio <= goal else 'NOT met'})")
