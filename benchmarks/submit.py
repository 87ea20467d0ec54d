"""How long `dlprep submit` takes, end to end, as a ratio to `python -c "import torch"` measured in
the same run.

The ratio cancels out the machine: torch's import is the floor of any grading that runs torch, and
what is left is what dlprep adds (the zygote's start-up and layer probe, the CLI's imports, loading
the banks, the child, the judge). Goal: <= 1.25. Run: python benchmarks/submit.py [--runs N]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.25
SUBMISSION = ROOT / "tests" / "golden" / "article-residual-block" / "submission.py"


def wall_time(command: list[str], ok_codes=(0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok_codes:
        sys.exit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (median taken)")
    args = parser.parse_args()
    commands = {
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        "dlprep submit": [sys.executable, str(ROOT / "cli.py"), "submit", str(SUBMISSION), "--json"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):  # interleaved, so a busy moment hits both alike
        for name, command in commands.items():
            times[name].append(wall_time(command))
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, ts in times.items():
        print(f"{name:<26} median {medians[name]:.3f} s  (min {min(ts):.3f}, max {max(ts):.3f}, n={len(ts)})")
    ratio = medians["dlprep submit"] / medians["python -c 'import torch'"]
    print(f"ratio {ratio:.2f} (goal <= {GOAL}): {'met' if ratio <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
