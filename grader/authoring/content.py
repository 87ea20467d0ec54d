"""`bank validate`'s checks of what a question says, beyond its schema: both languages say the same
(grader.authoring.parity), every claim has a source a reader can find, and no explanation names a
choice by its letter, nor a choice the others by place (the quiz shuffles choices, so "(B)" or
"both of the above" points at the wrong ones on screen, unless the question sets shuffle: false).

The built-in banks are held to all of it: each finding is an error. An instructor's bank (--bank,
DLPREP_BANKS, a path outside questions/) gets warnings for missing sources, missing translations
and cited letters, because a monolingual, unsourced class bank is still usable; numbers that
differ between two languages both written are an error everywhere (one of them is wrong).
A task's hints are held the same way (`hint_findings`), and a built-in task must have them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.authoring import cues, parity
from grader.bank import yamlsrc
from grader.bank.catalog import Catalog, LoadedQuestion, LoadedTask, builtin_dir
from grader.bank.schema import LETTERS, ChoiceQuestion

# One sentence, quoted or paraphrased: longer is a passage, which a reader cannot check at a glance.
MAX_QUOTE_CHARS = 400


@dataclass(frozen=True)
class Finding:
    line: str  # FILE:LINE: id=ID: message
    error: bool


def is_builtin(file: Path) -> bool:
    return file.resolve().is_relative_to(builtin_dir().resolve())


def review(catalog: Catalog) -> tuple[list[str], list[str]]:
    """(errors, warnings) over every loaded question and task, as FILE:LINE: id=ID: lines."""
    found = [f for loaded in catalog.questions.values() for f in question_findings(loaded, is_builtin(loaded.file))]
    found += [f for task in catalog.tasks.values() for f in hint_findings(task, is_builtin(task.file))]
    return [f.line for f in found if f.error], [f.line for f in found if not f.error]


def hint_findings(task: LoadedTask, builtin: bool) -> list[Finding]:
    """A task's hints: present (a built-in task must have them; an instructor's is warned), each in
    both languages with the same numbers, as a question's texts are held."""
    hints = task.spec.hints
    if not hints:
        message = "no hints: `dlprep task hint` has nothing to give a stuck learner (add 2 to 4, en and zh)"
        return [_task_finding(task, ("hints",), message, builtin)]
    written = {lang for hint in hints for lang in ("en", "zh") if (getattr(hint, lang) or "").strip()}
    out = []
    for finding in parity.compare(((("hints", i), f"hints[{i}]", hint) for i, hint in enumerate(hints))):
        if finding.missing and not builtin and len(written) < 2:
            continue  # an instructor's monolingual task is a choice, not a slip
        out.append(_task_finding(task, finding.field, finding.message, builtin or not finding.missing))
    return out


def _task_finding(task: LoadedTask, path: tuple, message: str, error: bool) -> Finding:
    try:
        line = yamlsrc.read(task.file).line_for(("task", *path))
    except yamlsrc.SourceError:
        line = task.line
    message = message if error else f"warning: {message}"
    return Finding(yamlsrc.problem(task.file, line, message, task.spec.id), error)


def question_findings(loaded: LoadedQuestion, builtin: bool) -> list[Finding]:
    return [*_parity(loaded, builtin), *_sources(loaded, builtin), *_letters(loaded, builtin)]


def _line(loaded: LoadedQuestion, *path) -> int:
    if loaded.source is None:
        return loaded.line
    return loaded.source.line_for(("questions", loaded.index, *path))


def _finding(loaded: LoadedQuestion, path: tuple, message: str, error: bool) -> Finding:
    message = message if error else f"warning: {message}"
    return Finding(yamlsrc.problem(loaded.file, _line(loaded, *path), message, loaded.question.id), error)


def _parity(loaded: LoadedQuestion, builtin: bool) -> list[Finding]:
    question = loaded.question
    written = {lang for _, _, text in parity.texts(question) for lang in ("en", "zh") if (getattr(text, lang) or "").strip()}
    out = []
    for finding in parity.findings(question):
        if finding.missing and not builtin and len(written) < 2:
            continue  # a monolingual question in an instructor's bank is a choice, not a slip
        out.append(_finding(loaded, finding.field, finding.message, error=builtin or not finding.missing))
    return out


def _sources(loaded: LoadedQuestion, builtin: bool) -> list[Finding]:
    refs = loaded.question.references
    if not refs:
        return [_finding(loaded, ("references",), "no references: cite where the key is supported", builtin)]
    out = []
    for index, ref in enumerate(refs):
        quote = (ref.quote or "").strip()
        lacks = [what for what, given in (("`where` (the section, figure, equation or doc heading)", ref.where),
                                          ("`quote` (the supporting statement, in one sentence)", quote))
                 if not (given or "").strip()]
        if lacks:
            msg = f"references[{index}]: needs {' and '.join(lacks)}"
            out.append(_finding(loaded, ("references", index), msg, builtin))
        if len(quote) > MAX_QUOTE_CHARS:
            msg = f"references[{index}]: the quote has {len(quote)} characters; one sentence, at most {MAX_QUOTE_CHARS}"
            out.append(_finding(loaded, ("references", index, "quote"), msg, builtin))
    return out


def _letters(loaded: LoadedQuestion, builtin: bool) -> list[Finding]:
    question = loaded.question
    if not isinstance(question, ChoiceQuestion) or not question.shuffle:
        return []  # with shuffle: false the letters on screen are the bank's
    out = []
    for lang in ("en", "zh"):
        cited = cues.cited_letters(getattr(question.explanation, lang) or "")
        if cited:
            msg = (f"explanation.{lang} names choices by letter ({', '.join(cited)}), but the quiz shuffles "
                   "them: name the choice by what it says (or set shuffle: false)")
            out.append(_finding(loaded, ("explanation",), msg, builtin))
    for index, choice in enumerate(question.choices):
        if any(cues.points_at_others(getattr(choice, lang) or "") for lang in ("en", "zh")):
            msg = (f"choice {LETTERS[index]} refers to other choices by place or letter, but the quiz shuffles "
                   "them: set shuffle: false")
            out.append(_finding(loaded, ("choices", index), msg, builtin))
    return out
