"""How long `dlprep submit` takes, end to end, as a ratio to `python -c "import torch"` measured in
the same run.

The ratio cancels out the machine: torch's import is the floor of any grading that runs torch, and
what is left is what dlprep adds (the zygote's start-up and layer probe, the CLI's imports, loading
the banks, the child, the judge). Goal: <= 1.25. Run: python benchmarks/submit.py [--runs N]
"""
from __future__ import annotations

import argparse
import sys

from ratio import ROOT, report_ratio

GOAL = 1.25
SUBMISSION = ROOT / "tests" / "golden" / "article-residual-block" / "submission.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (median taken)")
    args = parser.parse_args()
    report_ratio(("dlprep submit", [sys.executable, str(ROOT / "cli.py"), "submit", str(SUBMISSION), "--json"]),
                 ("python -c 'import torch'", [sys.executable, "-c", "import torch"]),
                 args.runs, GOAL)


if __name__ == "__main__":
    main()
