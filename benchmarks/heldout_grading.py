"""Grading truth on submissions nobody here wrote: how many verdicts are right and how many of the
mistakes in them are named.

    python benchmarks/heldout_grading.py [DIR] [--json] [--show]

Default set: benchmarks/heldout/submissions/ (written blind from the task prompts alone, with
expected.yaml giving each file's verdict and pitfall ids; pinned in benchmarks/heldout/SHA256SUMS).
A verdict is right when pass/fail matches (an error verdict counts as fail). A mistake is named when
its expected pitfall id is among the result's pitfall ids. --show lists every disagreement.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from grader.bank.catalog import load_catalog  # noqa: E402
from grader.grading.submit import grade_source, start_sandbox  # noqa: E402

DEFAULT = ROOT / "benchmarks" / "heldout" / "submissions"


def measure(folder: Path) -> dict:
    expected = yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))
    tasks = load_catalog().tasks
    rows = []
    sandbox = start_sandbox("cpu", insecure=False)
    started = time.monotonic()
    try:
        for name, want in sorted(expected.items()):
            source = (folder / name).read_text(encoding="utf-8")
            result = grade_source(source, name, tasks[want["task"]], sandbox)
            got = "pass" if result.verdict == "pass" else "fail"
            named = sorted({p.id for p in result.pitfalls})
            rows.append({"file": name, "task": want["task"], "expected": want["verdict"], "got": got,
                         "verdict_right": got == want["verdict"],
                         "expected_pitfalls": sorted(want.get("pitfalls") or []), "named": named,
                         "error": result.error.kind if result.error else None})
    finally:
        sandbox.close()
    mistakes = [(r, p) for r in rows for p in r["expected_pitfalls"]]
    return {
        "set": str(folder), "count": len(rows), "seconds": round(time.monotonic() - started, 1),
        "verdicts_right": sum(r["verdict_right"] for r in rows),
        "false_fails": [r["file"] for r in rows if r["expected"] == "pass" and r["got"] != "pass"],
        "false_passes": [r["file"] for r in rows if r["expected"] == "fail" and r["got"] == "pass"],
        "mistakes": len(mistakes), "mistakes_named": sum(p in r["named"] for r, p in mistakes),
        "rows": rows,
    }


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    report = measure(Path(args[0]) if args else DEFAULT)
    if "--json" in argv:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['count']} submissions from {report['set']} in {report['seconds']} s")
    print(f"verdicts right: {report['verdicts_right']}/{report['count']}")
    print(f"false fails (correct code failed): {len(report['false_fails'])} {report['false_fails']}")
    print(f"false passes (wrong code passed): {len(report['false_passes'])} {report['false_passes']}")
    print(f"mistakes named: {report['mistakes_named']}/{report['mistakes']}")
    if "--show" in argv:
        for r in report["rows"]:
            missed = sorted(set(r["expected_pitfalls"]) - set(r["named"]))
            if not r["verdict_right"] or missed:
                print(f"  {r['file']}: expected {r['expected']} {r['expected_pitfalls']}, got {r['got']} "
                      f"{r['named']} {r['error'] or ''}")


if __name__ == "__main__":
    main(sys.argv[1:])
