"""`dlprep bank new question|task`: a commented starting point that validates as it stands.

An instructor edits a working file rather than a blank page: the question scaffold is a bank file
holding one sourced, bilingual question of the asked type (a short one with a rubric and its graded
examples), the task scaffold a task file with its reference, a public example, probe families, hints
and one pitfall of its own proved by two mutants (leave-one-out). The templates live in scaffolds/
(`$name` placeholders, string.Template); tests/test_scaffold.py validates what each one writes.
Nothing is ever overwritten.
"""
from __future__ import annotations

import re
from pathlib import Path
from string import Template

from grader.bank import catalog
from grader.bank.schema import Id
from grader.errors import UsageError

TEMPLATES = Path(__file__).resolve().parent / "scaffolds"
QUESTION_TYPES = ("single", "multi", "truefalse", "numeric", "short")
DEFAULT_TOPIC = "general"
# The task scaffold's files: where each goes in the task's directory, from which template.
TASK_FILES = {
    "{id}.yaml": "task.yaml.tmpl",
    "reference.py": "reference.py.tmpl",
    "mutants/bias_before_scale.py": "bias_before_scale.py.tmpl",
    "mutants/bias_scaled.py": "bias_scaled.py.tmpl",
}


def question_text(kind: str, topic: str | None = None, question_id: str | None = None) -> str:
    """A bank file with one question of type `kind`, in `topic` (default: general)."""
    if kind not in QUESTION_TYPES:
        raise UsageError(f"unknown question type {kind!r} (types: {', '.join(QUESTION_TYPES)})")
    topic = _slug(topic or DEFAULT_TOPIC, "--topic")
    question_id = _slug(question_id or f"{topic}-{kind}-1", "--id")
    values = {"id": question_id, "topic": topic, "type": kind}
    return _fill("question-head.tmpl", values) + _fill(f"question-{kind}.tmpl", values)


def write_question(text: str, out: Path) -> Path:
    """Write a question scaffold to `out` (a directory: the file is named after the question's id)."""
    if out.is_dir():
        out = out / (re.search(r"(?m)^  - id: (\S+)", text).group(1) + ".yaml")
    elif out.suffix not in (".yaml", ".yml"):  # the banks load *.yaml and *.yml only
        raise UsageError(f"--out: {out} is neither a directory nor a .yaml file")
    _write_new(out, text)
    return out


def task_files(task_id: str, topic: str | None = None, shown_dir: str = ".") -> dict[str, str]:
    """The task scaffold's files, by path inside the task's directory."""
    task_id = _slug(task_id, "ID")
    values = {"id": task_id, "class_name": class_name(task_id), "topic": _slug(topic or DEFAULT_TOPIC, "--topic"),
              "dir": shown_dir}
    return {path.format(id=task_id): _fill(template, values) for path, template in TASK_FILES.items()}


def write_task(task_id: str, out: Path | None = None, topic: str | None = None) -> list[Path]:
    """Write the task scaffold into `out` (default ./ID), refusing an id a built-in task has and
    any file that already exists (checked for all before any is written)."""
    builtin = catalog.load_paths([catalog.builtin_dir() / "tasks"], strict=False).tasks
    if task_id in builtin:
        raise UsageError(f"a built-in task has the id {task_id}; choose another (ids are unique across banks)")
    out = out if out is not None else Path(task_id)
    files = {out / path: text for path, text in task_files(task_id, topic, str(out)).items()}
    if taken := [str(p) for p in files if p.exists()]:
        raise UsageError(f"{', '.join(taken)} already exist{'s' * (len(taken) == 1)}; dlprep never overwrites "
                         "(choose another --out)")
    for path, text in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {path.parent}: {exc.strerror}") from None
        _write_new(path, text)
    return list(files)


def class_name(task_id: str) -> str:
    """The task's class, from its id: my-affine -> MyAffine (a leading digit gets a Task prefix)."""
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[-._]+", task_id) if part)
    return name if name[:1].isalpha() else f"Task{name}"


def _slug(value: str, what: str) -> str:
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(Id).validate_python(value)
    except ValidationError as exc:
        raise UsageError(f"{what}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None


def _fill(template: str, values: dict[str, str]) -> str:
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)


def _write_new(path: Path, text: str) -> None:
    try:
        with path.open("x", encoding="utf-8") as f:  # "x": fails if the file exists
            f.write(text)
    except FileExistsError:
        raise UsageError(f"{path} already exists; dlprep never overwrites it (choose another --out)") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
