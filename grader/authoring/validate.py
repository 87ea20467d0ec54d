"""`bank validate`: the bank's own checks, then the ones that grade.

The bank (grader.bank) checks what it can without grading anything: schema, ids, task files. This
module adds what needs the other flows: every short question's model answer must earn full marks
against its own rubric (practice's grader), and every task is proved against its mutants
(grader.authoring.mutation, which starts the sandbox and is imported only when there is a task).
It also runs the content checks (grader.authoring.content: zh/en parity, sources, letters named in
explanations) and measures the test-taking cues (grader.authoring.cues) that the CLI prints.
"""
from __future__ import annotations

from pathlib import Path

from grader.authoring import content, cues
from grader.bank import yamlsrc
from grader.bank.catalog import Catalog, LoadedQuestion, load_catalog, load_paths
from grader.bank.schema import ShortQuestion


def load(paths: list[Path] | None = None, bank: list[Path] | None = None) -> Catalog:
    """Exactly `paths` (plus --bank), or without them the built-in banks plus --bank and
    DLPREP_BANKS, every problem collected: the bank's own, then those found by grading."""
    catalog = load_paths([*paths, *(bank or [])], strict=False) if paths else load_catalog(bank, strict=False)
    catalog.problems.extend(content_problems(catalog))
    errors, warnings = content.review(catalog)
    catalog.problems.extend(errors)
    catalog.warnings.extend(warnings)
    return catalog


def cue_lines(catalog: Catalog) -> tuple[list[str], list[str]]:
    """The test-taking cue figures of the loaded questions, and a warning for each off its goal."""
    found = cues.figures(entry.question for entry in catalog.questions.values())
    return [f.line() for f in found], [f"warning: cue off goal: {f.line()}" for f in found if not f.ok]


def content_problems(catalog: Catalog) -> list[str]:
    """Checks the schema cannot express, over every loaded question, as FILE:LINE: id=ID: lines."""
    return [line for loaded in catalog.questions.values() for line in _model_answer_problems(loaded)]


def _model_answer_problems(loaded: LoadedQuestion) -> list[str]:
    """A short question's model answer must earn full marks against its own rubric in every
    language it is written in, or the rubric is wrong."""
    question = loaded.question
    if not isinstance(question, ShortQuestion):
        return []
    from grader.practice.answers import grade

    out = []
    line = loaded.source.line_for(("questions", loaded.index, "model_answer")) if loaded.source else loaded.line
    for lang in ("en", "zh"):
        text = getattr(question.model_answer, lang)
        if not (text or "").strip():
            continue
        result = grade(question, text, lang="en")
        if result.correct:
            continue
        why = [f"missed: {'; '.join(result.points_missed)}"] if result.points_missed else []
        why += [f"asserts misconception: {'; '.join(result.misconceptions)}"] if result.misconceptions else []
        msg = f"model_answer.{lang} scores {result.score:.2f} against its own rubric ({', '.join(why)})"
        out.append(yamlsrc.problem(loaded.file, line, msg, question.id))
    return out


def prove_tasks(catalog: Catalog) -> list:
    """Prove the loaded tasks (reference passes, every mutant caught and named), each proof's
    problem lines in the format of every other validation problem, at the task's line."""
    if not catalog.tasks:
        return []
    from grader.authoring.mutation import prove_tasks as prove

    loaded = list(catalog.tasks.values())
    proofs = prove(loaded)
    for task, proof in zip(loaded, proofs):
        proof.lines[1:] = [
            yamlsrc.problem(task.file, task.line, line.removeprefix(f"{task.spec.id}: "), task.spec.id)
            for line in proof.lines[1:]
        ]
    return proofs
