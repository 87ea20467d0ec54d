"""Find and load question banks and coding-task files: the built-in ones shipped in questions/,
instructor directories given with --bank, and the DLPREP_BANKS path list.

Every *.yaml is read with line numbers; a top-level `questions:` makes it a bank (grader.bank.schema),
a top-level `task:` a task spec (grader.bank.taskspec, imported only when a task file is present). All
problems across all files are collected as `FILE:LINE: id=ID: message` lines, so `bank validate`
reports them at once; other commands load strictly and refuse to start on a broken bank.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from grader.bank import yamlsrc
from grader.errors import BankError, UsageError
from grader.bank.schema import BankFile, NumericQuestion, Question, ShortQuestion, answer_form

ENV_VAR = "DLPREP_BANKS"
_QUESTION = TypeAdapter(Question)


@dataclass(frozen=True)
class LoadedQuestion:
    question: Any  # one of grader.bank.schema's question models
    file: Path
    line: int
    # Where in its file: checks that grade (grader.authoring.validate) report a field's own line.
    index: int = field(default=-1, compare=False)
    source: Any = field(default=None, compare=False, repr=False)  # the file's yamlsrc.Source


@dataclass(frozen=True)
class LoadedTask:
    spec: Any  # grader.bank.taskspec's task model
    file: Path
    dir: Path  # the YAML's directory: an instructor's reference .py lives beside it
    line: int


@dataclass
class Catalog:
    questions: dict[str, LoadedQuestion] = field(default_factory=dict)
    tasks: dict[str, LoadedTask] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # FILE:LINE: lines that keep a bank valid
    files: list[Path] = field(default_factory=list)


def builtin_dir() -> Path:
    """The shipped questions/ package directory (found through the package, so an installed
    dlprep finds its banks wherever it lives)."""
    import questions

    return Path(questions.__file__).parent


def env_paths() -> list[Path]:
    return [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]


def load_catalog(bank_paths: list[Path] | None = None, *, strict: bool = True, tasks_only: bool = False) -> Catalog:
    """Load the built-in banks, then DLPREP_BANKS, then `bank_paths` (--bank). With strict=True any
    problem raises BankError; with strict=False problems are collected in Catalog.problems.
    tasks_only=True skips question banks unread (see `load_paths`)."""
    return load_paths([builtin_dir(), *env_paths(), *(bank_paths or [])], strict=strict, tasks_only=tasks_only)


# A task file has a top-level `task:` key; a file without one is not parsed when only tasks are
# wanted (`submit` and `grade`): the question banks take most of a load's time.
_TASK_KEY = re.compile(r"^task\s*:", re.MULTILINE)


def load_paths(paths: list[Path], *, strict: bool = True, tasks_only: bool = False) -> Catalog:
    """Load exactly these files and directories (directories recursively: see `yaml_files`).
    tasks_only=True loads the files that look like task files and skips the rest unparsed."""
    catalog = Catalog()
    for path in yaml_files(paths):
        if tasks_only and not _looks_like_task(path):
            continue
        catalog.files.append(path)
        _load_file(path, catalog)
    if strict and catalog.problems:
        count = len(catalog.problems)
        raise BankError(
            f"{count} problem{'s' * (count != 1)} in the question banks (see `dlprep bank validate`):",
            catalog.problems,
        )
    return catalog


def _looks_like_task(path: Path) -> bool:
    try:
        return _TASK_KEY.search(path.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return True  # let the loader report what is wrong with it


# Instructors write both extensions; hidden entries (.git, .github workflows, editor backups) are
# never banks, even inside a bank directory.
BANK_SUFFIXES = (".yaml", ".yml")


def yaml_files(paths: list[Path]) -> list[Path]:
    """Every *.yaml and *.yml under the given directories (hidden ones skipped), plus the given
    files themselves; each file once even when reached twice (e.g. --bank pointing at the built-in
    directory). A missing path, or a directory without any, is a usage error."""
    seen: set[Path] = set()
    out: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such bank file or directory: {path}")
        if not (path.is_dir() or path.is_file()):  # a FIFO or a device would block the read
            raise UsageError(f"not a bank file or directory: {path}")
        found = _bank_files_in(path) if path.is_dir() else [path]
        if not found:
            raise UsageError(f"no bank or task files (*.yaml, *.yml) in {path}")
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                out.append(file)
    return out


def _bank_files_in(directory: Path) -> list[Path]:
    return sorted(
        file for file in directory.rglob("*")
        if file.suffix in BANK_SUFFIXES and file.is_file()
        and not any(part.startswith(".") for part in file.relative_to(directory).parts)
    )


def _load_file(path: Path, catalog: Catalog) -> None:
    try:
        source = yamlsrc.read(path)
    except yamlsrc.SourceError as exc:
        catalog.problems.extend(exc.problems)
        return
    data = source.data
    if isinstance(data, dict) and "task" in data and "questions" not in data:
        _load_task(path, source, catalog)
    elif isinstance(data, dict) and "questions" in data:
        _load_bank(path, source, catalog)
    elif data is None:
        catalog.problems.append(yamlsrc.problem(path, 1, "empty file"))
    else:
        msg = "not a bank or task file: needs a top-level `questions:` list or `task:` mapping"
        catalog.problems.append(yamlsrc.problem(path, 1, msg))


def _load_bank(path: Path, source: yamlsrc.Source, catalog: Catalog) -> None:
    try:
        questions = list(enumerate(BankFile.model_validate(source.data).questions))
    except ValidationError as exc:
        catalog.problems.extend(yamlsrc.validation_problems(path, source, exc))
        questions = _valid_questions(source.data)
    for index, question in questions:
        line = source.lines.get(("questions", index), 1)
        earlier = catalog.questions.get(question.id)
        if earlier:
            catalog.problems.append(_duplicate(path, line, question.id, earlier))
            continue
        catalog.questions[question.id] = LoadedQuestion(question, path, line, index, source)


def _valid_questions(data: dict) -> list[tuple[int, Any]]:
    """The questions of a broken file that are valid on their own, so that their ids still take
    part in the duplicate check (their problems are reported already)."""
    items = data.get("questions")
    valid = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        try:
            valid.append((index, _QUESTION.validate_python(item)))
        except ValidationError:
            pass
    return valid


def _load_task(path: Path, source: yamlsrc.Source, catalog: Catalog) -> None:
    # Imported only here: the quiz never pays for them unless a task file is present.
    from grader.bank.taskfiles import task_problems
    from grader.bank.taskspec import TaskFile

    try:
        spec = TaskFile.model_validate(source.data).task
    except ValidationError as exc:
        catalog.problems.extend(yamlsrc.validation_problems(path, source, exc))
        return
    catalog.problems.extend(task_problems(spec, path, source))
    line = source.lines.get(("task",), 1)
    earlier = catalog.tasks.get(spec.id)
    if earlier:
        catalog.problems.append(_duplicate(path, line, spec.id, earlier))
        return
    # Absolute: the judge resolves the reference and mutants from its own working directory.
    catalog.tasks[spec.id] = LoadedTask(spec, path, path.resolve().parent, line)


def _duplicate(path: Path, line: int, qid: str, earlier: LoadedQuestion | LoadedTask) -> str:
    return yamlsrc.problem(path, line, f"duplicate id, also defined at {earlier.file}:{earlier.line}", qid)


def find_question(catalog: Catalog, qid: str) -> LoadedQuestion:
    """The question with this id, or UsageError naming the closest ids."""
    if qid in catalog.questions:
        return catalog.questions[qid]
    close = close_ids(qid, list(catalog.questions))
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise UsageError(f"unknown question id: {qid}{hint}")


def close_ids(wanted: str, ids: list[str], n: int = 3) -> list[str]:
    """Ids like `wanted`: typos first (difflib), then ids sharing a word with it, so that
    `layernorm-eps` finds `ln-eps-placement`."""
    import difflib
    import re

    close = difflib.get_close_matches(wanted, ids, n=n, cutoff=0.6)
    words = {w for w in re.split(r"[-_.\s]+", wanted.lower()) if len(w) >= 3}
    words |= {ID_PREFIXES[w] for w in words if w in ID_PREFIXES}  # "layernorm" also means "ln-"

    topic_of = {abbr: topic for topic, abbr in ID_PREFIXES.items()}

    def split(i: str) -> set[str]:
        return set(re.split(r"[-_.]+", i))

    def in_common(i: str) -> int:  # a topic and its abbreviation count once
        return len({topic_of.get(w, w) for w in words & split(i)})

    # The most words in common first; among those, the shortest (most specific) ids.
    shared = sorted((i for i in ids if i not in close and words & split(i)),
                    key=lambda i: (-in_common(i), len(split(i)), i))
    return (close + shared)[:n]


# The built-in ids start with their topic's abbreviation: a learner who types the topic means it.
ID_PREFIXES = {"layernorm": "ln", "residual": "res", "transformer": "tf", "training": "tr"}


def listing_json(loaded: LoadedQuestion) -> dict:
    """A question as `bank list --json` prints it: what it asks, not its answer."""
    q = loaded.question
    return {
        "id": q.id,
        "type": q.type,
        "topic": q.topic,
        "difficulty": q.difficulty,
        "tags": q.tags,
        "prompt": _text(q.prompt),
        "file": str(loaded.file),
        "line": loaded.line,
    }


def question_json(loaded: LoadedQuestion) -> dict:
    """A question as `bank show --json` prints it: both languages, the answer in answers-file form."""
    q = loaded.question
    out = listing_json(loaded)
    if hasattr(q, "choices"):
        out["choices"] = [_text(choice) for choice in q.choices]
    if q.code is not None:
        out["code"] = q.code
    if hasattr(q, "shuffle"):
        out["shuffle"] = q.shuffle
    out["answer"] = answer_form(q)
    if isinstance(q, ShortQuestion):
        out["model_answer"] = _text(q.model_answer)
        out["rubric"] = [{"point": _text(p.point), "weight": p.weight} for p in q.rubric]
    if isinstance(q, NumericQuestion):
        out.update(abs_tol=q.abs_tol, rel_tol=q.rel_tol, unit=q.unit)
    out["explanation"] = _text(q.explanation)
    out["references"] = [r.model_dump() for r in q.references]
    out["revision"] = q.revision
    return out


def _text(text) -> dict:
    return {"en": text.en, "zh": text.zh}
