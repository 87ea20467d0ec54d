"""Save-to-report latency of `dlprep submit FILE --watch`, as a learner sees it.

`dlprep submit FILE --watch` runs on a pseudo-terminal (pexpect), as in a terminal beside the editor.
Another process saves FILE, alternating an editor's atomic save (write a temporary file, rename it
over FILE) and a plain in-place write, and notes the monotonic clock just before the save; the
latency is from there to the moment the new report's last line (the hint line a failed report ends
with) has reached the terminal. Each save prints its own mark at import, which the report shows
among the code's output, so an old report can never be taken for the new one. The submission fails
(a residual block without its skip): the path a learner in the loop takes, pitfall diagnosis included.

Figures: the median and p90 over all saves, and the median of each kind of save. Goal: median
<= 150 ms. The load average is printed too: the figures are only comparable at similar load.
Run: python benchmarks/watch_latency.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 150.0
SUBMISSION = ROOT / "tests" / "golden" / "article-residual-block" / "submission.py"
LAST_LINE = "dlprep task hint residual-block"  # how a failed report ends (grader/render/submit.py)
# Between saves, so that each report is measured alone (a burst would be coalesced into one grade).
PAUSE_S = 0.3
START_TIMEOUT_S = 180  # the first grade starts the zygote (a torch import) on a loaded machine
REPORT_TIMEOUT_S = 60

# The saving process: one line on stdin per save ("atomic|inplace PATH MARK"), one line back with
# the monotonic clock (shared by every process on the machine) taken just before the save.
WRITER = r'''
import os, sys, time
template = open(sys.argv[1], encoding="utf-8").read()
for line in sys.stdin:
    how, path, mark = line.split()
    text = f"print({mark!r})\n" + template
    if how == "atomic":
        tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".swp~")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        start = time.monotonic()
        os.replace(tmp, path)
    else:
        start = time.monotonic()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print(start, flush=True)
'''


def failing_source() -> str:
    return SUBMISSION.read_text(encoding="utf-8").replace("out += residual", "out = out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="saves measured (atomic and in-place alternate)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="dlprep-watch-") as scratch:
        scratch = Path(scratch)
        template, path = scratch / "template.txt", scratch / "work" / "block.py"
        path.parent.mkdir()
        template.write_text(failing_source(), encoding="utf-8")
        path.write_text("print('mark-00000')\n" + failing_source(), encoding="utf-8")
        env = {**os.environ, "DLPREP_HOME": str(scratch / "home"), "COLUMNS": "120", "LINES": "60"}
        env.pop("DLPREP_DEBUG", None)
        child = pexpect.spawn(sys.executable, [str(ROOT / "cli.py"), "submit", str(path), "--watch"], cwd=str(ROOT),
                              env=env, encoding="utf-8", dimensions=(60, 120), timeout=REPORT_TIMEOUT_S)
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(template)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            child.expect("mark-00000", timeout=START_TIMEOUT_S)
            child.expect(LAST_LINE, timeout=START_TIMEOUT_S)
            times = {"atomic": [], "inplace": []}
            for run in range(1, args.runs + 1):
                time.sleep(PAUSE_S)
                how, mark = ("atomic", "inplace")[run % 2], f"mark-{run:05d}"
                writer.stdin.write(f"{how} {path} {mark}\n")
                writer.stdin.flush()
                child.expect(mark)
                child.expect(LAST_LINE)
                seen = time.monotonic()
                times[how].append((seen - float(writer.stdout.readline())) * 1000)
        finally:
            writer.stdin.close()
            writer.wait(timeout=10)
            child.sendintr()  # Ctrl-C, as the learner stops it
            child.expect(pexpect.EOF, timeout=30)
    median = report(times, load_before, os.getloadavg())
    alone = grading_alone(args.runs)
    print(f"what --watch adds to grading: {median - alone:+.1f} ms (median save-to-report minus median grading "
          "alone; noisy on a loaded machine)")


def grading_alone(runs: int) -> float:
    """The same file graded in-process with a warm sandbox, right after: the part of the latency
    that is grading; the rest is what --watch adds (events, reading, recording, rendering)."""
    sys.path.insert(0, str(ROOT))
    from grader.grading.submit import grade_source, task_catalog
    from grader.sandbox import Sandbox

    task = task_catalog()["residual-block"]
    with Sandbox(device="cpu") as sandbox:
        grade_source(failing_source(), "block.py", task, sandbox)
        times = []
        for _ in range(runs):
            start = time.monotonic()
            grade_source(failing_source(), "block.py", task, sandbox)
            times.append((time.monotonic() - start) * 1000)
    median = statistics.median(times)
    print(f"grading alone: median {median:.1f} ms over {runs} grades (the same file, warm sandbox)")
    return median


def report(times: dict[str, list[float]], load_before, load_after) -> float:
    every = sorted(t for values in times.values() for t in values)
    median = statistics.median(every)
    p90 = every[min(len(every) - 1, round(0.9 * (len(every) - 1)))]
    for how, values in times.items():
        if values:
            print(f"{how:<8} median {statistics.median(values):6.1f} ms  (min {min(values):.1f}, "
                  f"max {max(values):.1f}, n={len(values)})")
    print(f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} CPUs)")
    verdict = "met" if median <= GOAL_MS else "NOT met"
    print(f"save-to-report: median {median:.1f} ms, p90 {p90:.1f} ms over {len(every)} saves "
          f"(goal median <= {GOAL_MS:.0f} ms: {verdict})")
    return median


if __name__ == "__main__":
    main()
