"""How long `dlprep --help` takes, as a ratio to a one-command Typer app measured in the same run.

The ratio cancels out the machine and the interpreter's own start-up: what is left is what dlprep
adds on top of Typer (its imports at module level). Goal: <= 1.6. Run: python benchmarks/startup.py
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ratio import ROOT, report_ratio

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="runs of each command (median taken)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "hello.py"
        baseline.write_text(BASELINE_APP)
        report_ratio(("dlprep --help", [sys.executable, str(ROOT / "cli.py"), "--help"]),
                     ("typer one-command app --help", [sys.executable, str(baseline), "--help"]),
                     args.runs, GOAL)


if __name__ == "__main__":
    main()
