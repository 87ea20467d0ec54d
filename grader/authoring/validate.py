"""`bank validate`: the bank's own checks, then the ones that grade.

The bank (grader.bank) checks what it can without grading anything: schema, ids, task files. This
module adds what needs the other flows: every short question's rubric is proved (grader.authoring.rubrics:
its model answer earns full marks, its graded examples score in their ranges), and every task is
proved against its mutants (grader.authoring.mutation, which starts the sandbox and is imported
only when there is a task).
It also runs the content checks (grader.authoring.content: zh/en parity, sources, letters named in
explanations) and measures the test-taking cues (grader.authoring.cues) that the CLI prints.
"""
from __future__ import annotations

from pathlib import Path

from grader.authoring import content, cues, rubrics
from grader.bank import yamlsrc
from grader.bank.catalog import Catalog, load_catalog, load_paths


def load(paths: list[Path] | None = None, bank: list[Path] | None = None) -> Catalog:
    """Exactly `paths` (plus --bank), or without them the built-in banks plus --bank and
    DLPREP_BANKS, every problem collected: the bank's own, then those found by grading."""
    catalog = load_paths([*paths, *(bank or [])], strict=False) if paths else load_catalog(bank, strict=False)
    for review in (rubrics.review, content.review):
        errors, warnings = review(catalog)
        catalog.problems.extend(errors)
        catalog.warnings.extend(warnings)
    return catalog


def cue_lines(catalog: Catalog) -> tuple[list[str], list[str]]:
    """The test-taking cue figures of the loaded questions, and a warning for each off its goal."""
    found = cues.figures(entry.question for entry in catalog.questions.values())
    return [f.line() for f in found], [f"warning: cue off goal: {f.line()}" for f in found if not f.ok]


def prove_tasks(catalog: Catalog, sandbox=None) -> list:
    """Prove the loaded tasks (reference passes, every mutant caught and named), each proof's
    problem lines in the format of every other validation problem, at the task's line. Without
    `sandbox`, one is started for the proofs and closed after."""
    if not catalog.tasks:
        return []
    from grader.authoring.mutation import prove_tasks as prove

    loaded = list(catalog.tasks.values())
    proofs = prove(loaded, sandbox)
    for task, proof in zip(loaded, proofs):
        proof.lines[1:] = [
            yamlsrc.problem(task.file, task.line, line.removeprefix(f"{task.spec.id}: "), task.spec.id)
            for line in proof.lines[1:]
        ]
    return proofs
