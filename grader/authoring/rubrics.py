"""`bank validate` proves each short question's rubric as a task is proved against its mutants: the
model answer must earn full marks, and every graded example (`examples:` in the YAML: correct
paraphrases, partial, negated, swapped, wrong and off-topic answers) must score in its range.

A misgraded example is an error in any bank, named with the points hit and missed and the score.
Too few examples is an error in the built-in banks and a warning in an instructor's bank (a rubric
nobody has tried on a wrong answer still grades, but nobody knows how well).
"""
from __future__ import annotations

from grader.authoring.content import Finding, is_builtin
from grader.bank import yamlsrc
from grader.bank.catalog import Catalog, LoadedQuestion
from grader.bank.schema import LANGS, ShortQuestion

# At least this many examples per language the prompt is written in, covering these kinds.
MIN_EXAMPLES = 6
REQUIRED_KINDS = {
    "correct": ({"correct"}, 2),
    "partial": ({"partial"}, 1),
    "negated or swapped": ({"negated", "swapped"}, 1),
    "wrong or off-topic": ({"wrong", "off-topic"}, 1),
}


def review(catalog: Catalog) -> tuple[list[str], list[str]]:
    """(errors, warnings) over every short question, as FILE:LINE: id=ID: lines."""
    found = [f for loaded in catalog.questions.values() for f in question_findings(loaded, is_builtin(loaded.file))]
    return [f.line for f in found if f.error], [f.line for f in found if not f.error]


def question_findings(loaded: LoadedQuestion, builtin: bool) -> list[Finding]:
    if not isinstance(loaded.question, ShortQuestion):
        return []
    return [*_model_answers(loaded), *_coverage(loaded, builtin), *_examples(loaded)]


def _line(loaded: LoadedQuestion, *path) -> int:
    return loaded.source.line_for(("questions", loaded.index, *path)) if loaded.source else loaded.line


def _error(loaded: LoadedQuestion, path: tuple, message: str, error: bool = True) -> Finding:
    message = message if error else f"warning: {message}"
    return Finding(yamlsrc.problem(loaded.file, _line(loaded, *path), message, loaded.question.id), error)


def _why(result) -> str:
    parts = [f"hit: {'; '.join(result.points_hit) or 'none'}", f"missed: {'; '.join(result.points_missed) or 'none'}"]
    if result.misconceptions:
        parts.append(f"misconceptions: {'; '.join(result.misconceptions)}")
    return ", ".join(parts)


def _model_answers(loaded: LoadedQuestion) -> list[Finding]:
    """The model answer earns full marks in every language it is written in, or the rubric is wrong."""
    from grader.practice.answers import grade

    question = loaded.question
    out = []
    for lang in LANGS:
        text = getattr(question.model_answer, lang)
        if not (text or "").strip():
            continue
        result = grade(question, text, lang="en")
        if not result.correct:
            why = [f"missed: {'; '.join(result.points_missed)}"] if result.points_missed else []
            why += [f"asserts misconception: {'; '.join(result.misconceptions)}"] if result.misconceptions else []
            message = f"model_answer.{lang} scores {result.score:.2f} against its own rubric ({', '.join(why)})"
            out.append(_error(loaded, ("model_answer",), message))
    return out


def _coverage(loaded: LoadedQuestion, builtin: bool) -> list[Finding]:
    question = loaded.question
    out = []
    for lang in LANGS:
        if not (getattr(question.prompt, lang) or "").strip():
            continue
        kinds = [example.kind for example in question.examples if example.lang == lang]
        lacking = [f"{need} {name}" for name, (accepted, need) in REQUIRED_KINDS.items()
                   if sum(kind in accepted for kind in kinds) < need]
        # Two subjects of its own (not third parties) can be swapped for each other.
        if sum(not subject.other for subject in question.subjects) >= 2 and "swapped" not in kinds:
            lacking.append("1 swapped (the question has subjects)")
        if len(kinds) < MIN_EXAMPLES or lacking:
            detail = f"; needs at least {', '.join(lacking)}" if lacking else ""
            message = (f"{len(kinds)} graded examples in {lang}, at least {MIN_EXAMPLES} wanted{detail}: "
                       "add `examples:` answers the rubric must grade right")
            out.append(_error(loaded, ("examples",) if question.examples else ("rubric",), message, error=builtin))
    return out


def _examples(loaded: LoadedQuestion) -> list[Finding]:
    from grader.practice.answers import grade

    out = []
    for i, example in enumerate(loaded.question.examples):
        result = grade(loaded.question, example.text, lang="en")
        low, high = example.band()
        if low - 1e-9 <= result.score <= high + 1e-9:
            continue
        message = (f"examples[{i}] ({example.lang}, {example.kind}) scores {result.score:.2f}, expected "
                   f"{low:.2f}-{high:.2f}: {_why(result)}")
        out.append(_error(loaded, ("examples", i), message))
    return out
