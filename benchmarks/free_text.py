"""Free-text grading on answers nobody here tuned on: per language and kind, the share graded right
and the share the grader calls unsure.

    python benchmarks/free_text.py [ANSWERS.yaml] [--json]

Default set: benchmarks/heldout/answers.yaml, written blind (from the questions alone, no rubric,
model answer or code) before the free-text grader was reworked; see its sha256 in
benchmarks/heldout/SHA256SUMS. "Right" is the band each kind must reach: correct >= 0.8, partial
0.3-0.7, negated / swapped / wrong / off-topic <= 0.2. A swapped answer scored >= 0.8 and not
marked unsure is "confidently wrong".
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from grader.bank.catalog import load_catalog  # noqa: E402
from grader.practice.answers import grade  # noqa: E402

DEFAULT = Path(__file__).resolve().parent / "heldout" / "answers.yaml"
BANDS = {"correct": (0.8, 1.0), "partial": (0.3, 0.7)}  # every other kind: (0, 0.2)


def right(kind: str, score: float) -> bool:
    low, high = BANDS.get(kind, (0.0, 0.2))
    return low - 1e-9 <= score <= high + 1e-9


def measure(path: Path) -> dict:
    catalog = load_catalog()
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["answers"]
    cells: dict[tuple[str, str], list[tuple[bool, bool]]] = defaultdict(list)
    confidently_wrong = []
    for item in items:
        question = catalog.questions[item["question"]].question
        result = grade(question, item["text"], lang=item["lang"])
        unsure = bool(getattr(result, "unsure", False))
        cells[(item["lang"], item["kind"])].append((right(item["kind"], result.score), unsure))
        if item["kind"] == "swapped" and result.score >= 0.8 and not unsure:
            confidently_wrong.append(item["question"])
    rows = []
    for (lang, kind), marks in sorted(cells.items()):
        rows.append({"lang": lang, "kind": kind, "n": len(marks),
                     "right": sum(r for r, _ in marks) / len(marks),
                     "unsure": sum(u for _, u in marks) / len(marks)})
    everything = [m for marks in cells.values() for m in marks]
    return {"set": str(path), "answers": len(items), "rows": rows,
            "unsure_overall": sum(u for _, u in everything) / len(everything),
            "confidently_wrong_swapped": confidently_wrong}


def main(argv: list[str]) -> None:
    args = [a for a in argv if a != "--json"]
    report = measure(Path(args[0]) if args else DEFAULT)
    if "--json" in argv:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['answers']} answers from {report['set']}")
    print(f"{'lang':<5}{'kind':<11}{'n':>4}{'right':>8}{'unsure':>8}")
    for row in report["rows"]:
        print(f"{row['lang']:<5}{row['kind']:<11}{row['n']:>4}{row['right']:>8.0%}{row['unsure']:>8.0%}")
    print(f"unsure overall: {report['unsure_overall']:.0%}; confidently wrong on swapped: "
          f"{len(report['confidently_wrong_swapped'])}")


if __name__ == "__main__":
    main(sys.argv[1:])
