"""Warm grading time of a function task (layernorm-backward), with and without the zygote preloading
what torch.autograd.gradcheck imports (grader.grading.submit.FUNCTION_TASK_PRELOAD), beside the
LayerNorm module task graded in the same sandbox: the ratio is measured in one run, on one machine.
The correct reference of each task is graded N times through grade_source; medians are the figures.
Run: python benchmarks/function_task.py
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.authoring.mutation import reference_source  # noqa: E402
from grader.bank.catalog import load_paths  # noqa: E402
from grader.grading.submit import FUNCTION_TASK_PRELOAD, grade_source  # noqa: E402
from grader.sandbox import Sandbox  # noqa: E402


def median_ms(sandbox: Sandbox, loaded, runs: int) -> float:
    source = reference_source(loaded)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = grade_source(source, "reference.py", loaded, sandbox)
        times.append((time.perf_counter() - start) * 1000)
        if result.verdict != "pass":
            raise SystemExit(f"the {loaded.spec.id} reference did not pass: {result.error}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    tasks = load_paths([ROOT / "questions" / "tasks"]).tasks
    function, module = tasks["layernorm-backward"], tasks["layernorm"]
    with Sandbox(preload=FUNCTION_TASK_PRELOAD) as sandbox:
        median_ms(sandbox, function, 1)  # the zygote's start and first use, off the figures
        preloaded = median_ms(sandbox, function, args.runs)
        layernorm = median_ms(sandbox, module, args.runs)
    with Sandbox() as sandbox:
        median_ms(sandbox, function, 1)
        plain = median_ms(sandbox, function, args.runs)
    print(f"layernorm-backward warm: {preloaded:7.1f} ms median of {args.runs} (gradcheck's imports preloaded)")
    print(f"layernorm-backward warm: {plain:7.1f} ms median of {args.runs} (imported in each child)")
    print(f"layernorm          warm: {layernorm:7.1f} ms median of {args.runs} (same sandbox as the first line)")
    print(f"ratio {preloaded / layernorm:.2f} (function task / module task, preloaded); "
          f"the child's import costs {plain - preloaded:.0f} ms a grade")


if __name__ == "__main__":
    main()
