"""Prove a task: its reference passes every hidden check, and every declared mutant (a known-wrong
variant) fails at least one hidden check and is named by its own pitfall id by some detector other
than matching that very mutant. A pitfall of the instructor's own (`own_pitfalls:`) has no detector:
each of its mutants must be named by matching the others (leave-one-out), so two independent
variants of one mistake vouch for each other and for the hidden checks that tell them apart.

`dlprep bank validate` runs this on every loaded task. Each source goes through the real child via
grader.grading.submit.grade_source, exactly as a learner's file would, with one warm sandbox for the lot.
A task whose hidden checks miss a mutant fails validation, naming the mutant and what (if anything)
separated it from the reference: this is how an instructor learns their hidden tests are too weak.
No torch here: the sandbox's zygote and judge do the numerics.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import BankError
from grader.pitfalls import registry
from grader.results import SubmissionResult
from grader.grading.submit import FUNCTION_TASK_PRELOAD, grade_source, start_sandbox
from grader.bank.taskfiles import reference_path, unprovable_own_pitfalls

# Failing one of these catches a mutant even though they are public: they judge the whole module.
MODULE_CHECK_KINDS = {"structure", "init", "input-unchanged", "forbidden-ops"}


@dataclass
class TaskProof:
    task_id: str
    ok: bool
    lines: list[str] = field(default_factory=list)  # the summary first, then one line per problem


def prove_tasks(tasks: list, sandbox=None) -> list[TaskProof]:
    """Prove each grader.bank.catalog.LoadedTask. Without `sandbox`, one is started for all of them and
    closed after. The sources run here are the task's own (its reference and mutants), trusted by
    whoever validates the task, so validation also works where no isolation layer does."""
    own = sandbox is None
    if own:
        function = any(getattr(t.spec, "kind", "module") == "function" for t in tasks)
        sandbox = start_sandbox("cpu", insecure=True, preload=FUNCTION_TASK_PRELOAD if function else ())
    try:
        return [prove_task(task, sandbox) for task in tasks]
    finally:
        if own:
            sandbox.close()


def prove_task(loaded, sandbox, seed: int | None = None, corners: bool = True) -> TaskProof:
    """The proof with the task's own seed, or with `seed` (the hidden probes drawn for it); the
    families' corners (a finite reference everywhere a family can draw) unless `corners` is false."""
    spec = loaded.spec
    problems = _declaration_problems(spec)
    problems += _family_problems(loaded, sandbox) if corners else []
    reference = grade_source(reference_source(loaded), "reference.py", loaded, sandbox, seed=seed)
    problems += _reference_problems(spec.id, reference)
    proven, own = 0, {p.id for p in spec.own_pitfalls}
    for mutant in spec.mutants:
        source = mutant.path(loaded.dir).read_text(encoding="utf-8")
        # A built-in pitfall must be named by a detector, not by its mutants; an instructor's own has
        # no detector, so only this one file is left out and its other variants must name it.
        excluded = mutant.file if mutant.id in own else mutant.id
        result = grade_source(source, Path(mutant.file).name, loaded, sandbox, exclude_mutant=excluded, seed=seed)
        several = sum(m.id == mutant.id for m in spec.mutants) > 1
        trouble = _mutant_problem(spec.id, mutant.id, result, mutant.file if several else "")
        if trouble and mutant.id in own and "but not named" in trouble:
            trouble += (f"; an own pitfall is named when a submission behaves as another of its mutants does: "
                        f"do the mutants of {mutant.id} make the same mistake on every probe?")
        if trouble:
            problems.append(trouble)
        else:
            proven += 1
    hidden = sum(1 for c in reference.checks if c.hidden)
    families = spec.probe_space.families if spec.probe_space else []
    covers = f" drawn from {len(families)} families ({', '.join(f.name for f in families)})" if families else ""
    summary = (f"{spec.id}: {len(reference.checks)} checks ({hidden} hidden){covers}; "
               f"{proven}/{len(spec.mutants)} mutants caught and named")
    return TaskProof(spec.id, not problems, [summary, *problems])


def _family_problems(loaded, sandbox) -> list[str]:
    """A family that can draw a probe whose float64 reference is not finite is refused: the
    reference runs on every corner of every family (grader.bank.families.corners), once."""
    space = loaded.spec.probe_space
    if space is None:
        return []
    from grader.bank import families
    from grader.bank.taskspec import Probe

    probes = [p for family in space.families for p in families.corners(space, family)]
    corners = loaded.spec.model_copy(update={"probes": [Probe.model_validate(p) for p in probes], "probe_space": None})
    result = grade_source(reference_source(loaded), "reference.py", dataclasses.replace(loaded, spec=corners), sandbox)
    if result.error:
        return [f"{loaded.spec.id}: the reference could not run the families' corners: {result.error.kind}: "
                f"{result.error.message}"]
    bad = {c.name.rsplit("/", 1)[0].split(".corner-")[0] for c in result.checks
           if not c.passed and c.message.startswith(families.NONFINITE_TRUTH)}
    return [f"{loaded.spec.id}: family {name} can draw a probe whose float64 reference is not finite"
            for name in sorted(bad)]


def _declaration_problems(spec) -> list[str]:
    """Pitfall and mutant ids dlprep cannot name, and own pitfalls with too few mutants: such a
    mutant could never be proved."""
    known = registry.for_task(spec)
    own = {p.id for p in spec.own_pitfalls}
    problems = [f"{spec.id}: unknown pitfall id {i} (known: {', '.join(known)})"
                for i in spec.pitfalls if i not in known]
    for mutant in spec.mutants:
        if mutant.id not in known:
            problems.append(f"{spec.id}: mutant {mutant.id} is not a pitfall id, so no detector can name it")
        elif spec.pitfalls and mutant.id not in spec.pitfalls and mutant.id not in own:
            problems.append(f"{spec.id}: mutant {mutant.id} is not among the task's pitfalls")
    return problems + [f"{spec.id}: {why}" for _, why in unprovable_own_pitfalls(spec)]


def _reference_problems(task_id: str, result: SubmissionResult) -> list[str]:
    if result.error:
        return [f"{task_id}: the reference could not be graded: {result.error.kind}: {result.error.message}"]
    return [f"{task_id}: the reference fails {c.name}: {c.message or _err(c)}"
            for c in result.checks if not c.passed]


def _mutant_problem(task_id: str, mutant_id: str, result: SubmissionResult, file: str = "") -> str | None:
    """None when the mutant is caught by a hidden (or whole-module) check and named by its id."""
    if file:  # one of several mutants of the id: say which
        mutant_id_shown = f"{mutant_id} ({file})"
        trouble = _mutant_problem(task_id, mutant_id, result)
        return trouble.replace(f"mutant {mutant_id} ", f"mutant {mutant_id_shown} ", 1) if trouble else None
    if result.error:
        return f"{task_id}: mutant {mutant_id} could not be graded: {result.error.kind}: {result.error.message}"
    catching = [c.name for c in result.checks
                if not c.passed and (c.hidden or c.kind in MODULE_CHECK_KINDS)]
    if not catching:
        return f"{task_id}: mutant {mutant_id} passes every hidden check; {_separation(result)}"
    if mutant_id not in {p.id for p in result.pitfalls}:
        named = ", ".join(p.id for p in result.pitfalls) or "nothing"
        return (f"{task_id}: mutant {mutant_id} is caught ({', '.join(catching[:3])}) but not named "
                f"(named: {named})")
    return None


def _separation(result: SubmissionResult) -> str:
    """Which probe told the mutant from the reference, with the measured error, if any did."""
    failed = [c for c in result.checks if not c.passed]
    if failed:
        c = failed[0]
        return f"only public probe {c.name} separated it from the reference ({_err(c)})"
    measured = [c for c in result.checks if c.max_rel_err is not None]
    if not measured:
        return "no probe separated it from the reference"
    c = max(measured, key=lambda c: c.max_rel_err)
    return (f"no probe separated it from the reference (largest difference: {c.name}, "
            f"{_err(c)}, within tolerance)")


def _err(check) -> str:
    if check.max_rel_err is None:
        return check.message or "no measurement"
    return f"max abs error {check.max_abs_err:.3g}, relative {check.max_rel_err:.3g}"


def reference_source(loaded) -> str:
    """The reference as a submission: its file's text, with the task's class name bound to it."""
    target, name = loaded.spec.reference.rsplit(":", 1)
    path, missing = reference_path(target, Path(loaded.dir))
    if path is None:
        raise BankError(f"{loaded.file}: {missing}")
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BankError(f"{loaded.file}: cannot read the reference {path}: {exc.strerror}") from None
    alias = f"\n{loaded.spec.class_name} = {name}\n" if name != loaded.spec.class_name else ""
    return source + alias
