"""A stuck learner's way forward on a coding task: its hints, one step at a time, then its reference
solution, which stays closed until the learner has had a graded attempt of their own.

Both are recorded in the learner's store (grader.practice.store, table `hints`): kind "hint" with
its level, kind "solution". The next hint is 1 + the hints recorded for the task, capped at the
last, so a learner who asks again after the last one sees the last one again.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.bank.taskfiles import reference_path
from grader.errors import EXIT_FAIL, DlprepError, UsageError


class SolutionLocked(DlprepError):
    """The solution was asked for before any graded attempt at the task (exit 1, like a failed grade)."""

    exit_code = EXIT_FAIL


@dataclass(frozen=True)
class Hint:
    task: str
    level: int  # 1-based
    total: int
    text: str


@dataclass(frozen=True)
class HintState:
    """How far a learner is along a task's hints: what the end of a failed report offers."""

    task: str
    used: int  # distinct levels seen, at most total
    total: int


@dataclass(frozen=True)
class Solution:
    task: str
    file: Path  # the reference's source file (a dlprep module, or an instructor's file beside the YAML)
    source: str
    forced: bool  # shown with --force before any graded attempt


def state(spec, store=None) -> HintState:
    used = len(_hints_used(store, spec.id)) if store is not None else 0
    return HintState(spec.id, min(used, len(spec.hints)), len(spec.hints))


def next_hint(spec, store, lang: str = "en") -> Hint:
    """The task's next hint in `lang`, recorded as used."""
    if not spec.hints:
        raise UsageError(f"task {spec.id} has no hints; its solution: dlprep task solution {spec.id}")
    level = min(1 + len(_hints_used(store, spec.id)), len(spec.hints))
    store.record_hint(task=spec.id, kind="hint", level=level)
    return Hint(spec.id, level, len(spec.hints), spec.hints[level - 1].get(lang))


def solution(loaded, store, force: bool = False) -> Solution:
    """The reference solution of a loaded task (grader.bank.catalog.LoadedTask), once the store holds
    a graded attempt at it, or with force; each showing is recorded."""
    spec = loaded.spec
    attempted = bool(store.submissions(task=spec.id, limit=1))
    if not (attempted or force):
        raise SolutionLocked(f"the solution to {spec.id} opens after your first graded attempt: "
                             f"dlprep submit FILE (or see it now with --force; stuck? dlprep task hint {spec.id})")
    path, missing = reference_path(spec.reference.rsplit(":", 1)[0], Path(loaded.dir))
    if missing:
        raise UsageError(f"task {spec.id}: {missing}")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"task {spec.id}: cannot read its reference {path}: {exc}") from None
    store.record_hint(task=spec.id, kind="solution", level=None)
    return Solution(spec.id, path, source, forced=not attempted)


def _hints_used(store, task: str) -> set[int]:
    return {level for _, _, _, kind, level in store.hints(task) if kind == "hint" and level is not None}
