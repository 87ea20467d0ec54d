"""How long `dlprep --help` takes, as a ratio to a one-command Typer app measured in the same run.

The ratio cancels out the machine and the interpreter's own start-up: what is left is what dlprep
adds on top of Typer (its imports at module level). Goal: <= 1.6. Run: python benchmarks/startup.py
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.6

BASELINE_APP = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


if __name__ == "__main__":
    app()
'''


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="runs of each command (median taken)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "hello.py"
        baseline.write_text(BASELINE_APP)
        commands = {
            "dlprep --help": [sys.executable, str(ROOT / "cli.py"), "--help"],
            "typer one-command app --help": [sys.executable, str(baseline), "--help"],
        }
        for command in commands.values():  # warm the page cache and write the .pyc files
            wall_time(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):  # interleaved, so drifting machine load hits both alike
            for name, command in commands.items():
                times[name].append(wall_time(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:30s} median {median * 1000:7.1f} ms  (min {min(times[name]) * 1000:.1f} ms, {args.runs} runs)")
    ratio = medians["dlprep --help"] / medians["typer one-command app --help"]
    print(f"ratio {ratio:.2f} (goal <= {GOAL}: {'met' if ratio <= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
