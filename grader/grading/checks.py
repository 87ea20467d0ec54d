"""The judge's checks, one function per kind, each from the truth and the child's validated data.

`plan` lists every check a complete run makes (the error path uses it for max_score);
`build_checks` makes them in that order. Public probe checks carry the shape and the worst elements;
hidden ones carry only their name, their errors and messages that never show an input.
"""
from __future__ import annotations

import math

import torch

from grader.grading import compare as cmp
from grader.grading import functionchecks, wording
from grader.grading.forbidden import scan, tampering, traced_matches
from grader.grading.probes import key_base, key_kind, key_step
from grader.results import CheckResult
from grader.bank.families import NONFINITE_TRUTH
from grader.bank.tasks import example_line
from grader.bank.taskspec import Probe, TaskSpec


def plan(spec: TaskSpec) -> list[tuple[str, str, bool, float]]:
    """Every check a complete run makes, in report order: (name, kind, hidden, points)."""
    pts = spec.points
    function = spec.kind == "function"  # the grader builds the module around a Function: no structure of its own
    checks = [] if function else [("structure", "structure", False, pts.structure)]
    if not function and any(e.init != "any" for e in [*spec.parameters, *spec.buffers]):
        checks.append(("init", "init", False, pts.init))
    for probe in spec.graded_probes():
        checks += [(f"{probe.name}/{c}", c, probe.hidden, probe.points) for c in probe.checks]
    if function:
        checks.append(("gradcheck", "gradcheck", False, pts.gradcheck))
    checks += [("dtype-shape", "dtype-shape", False, pts.dtype_shape),
               ("input-unchanged", "input-unchanged", False, pts.input_unchanged)]
    if spec.forbidden or function:  # a function task always forbids autograd inside the Function
        checks.append(("forbidden-ops", "forbidden-ops", False, pts.forbidden_ops))
    return checks


def build_checks(j) -> list[CheckResult]:
    """`j` is a grader.grading.judge.Judgement."""
    probes = {p.name: p for p in j.spec.graded_probes()}
    results = []
    for name, kind, hidden, points in plan(j.spec):
        check = CheckResult(name=name, kind=kind, hidden=hidden, passed=False, points=points)
        if kind in _PROBE_CHECKS:
            probe = probes[name.rsplit("/", 1)[0]]
            _PROBE_CHECKS[kind](j, probe, check)
            if not (check.passed or probe.hidden):  # a failed public example shows what went in
                check.example = example_line(j.spec, probe)
        else:
            _MODULE_CHECKS[kind](j, check)
        results.append(check)
    return results


# -- whole-module checks ---------------------------------------------------------------------------
def reference_structure(build, spec: TaskSpec) -> tuple[dict[str, list[int]], dict[str, str]]:
    """The reference as the task builds it: parameter shapes by name, and the submodules holding
    parameters directly (name -> type). `build` is grader.grading.judge.Judgement.build."""
    args, kwargs = spec.build.values()
    ref = build("reference", args, kwargs)
    params = {n: list(p.shape) for n, p in ref.named_parameters()}
    holders = {n: type(m).__name__ for n, m in ref.named_modules() if n and any(True for _ in m.parameters(recurse=False))}
    return params, holders


def listed(items: list[str], limit: int = 8, lang: str = "en") -> str:
    """A list of names for a message, its length bounded whatever the child sent."""
    shown = ", ".join(items[:limit])
    return wording.say(lang, "{items} and {n} more", items=shown, n=len(items) - limit) if len(items) > limit else shown


def _t(j, template: str, **values) -> str:
    """A message in the job's language (grader.grading.wording: the English template is the key)."""
    return wording.say(_lang(j), template, **values)


def _lang(j) -> str:
    return str(j.job.get("lang") or "en")


def _child_structure(j) -> tuple[dict[str, dict], dict[str, str], dict[str, str]]:
    """The child's parameters, parameter-holding submodules and name mapping (validated by
    grader.grading.answer: the types are right, the counts bounded)."""
    raw = j.meta.get("structure") or {}
    params = {p["name"]: p for p in raw.get("parameters", [])}
    holders = {m["name"]: m["type"] for m in raw.get("submodules", [])}
    mapping = {k: v for k, v in raw.get("mapping", {}).items() if k in params}
    return params, holders, mapping


def self_report_doubt(j) -> str:
    """Why the child's self-reports (structure, initial values, the input after forward, the op
    record) cannot be believed, or "": its source reaches for the grader's state."""
    found = tampering(j.job["source"])
    if not found:
        return ""
    return _t(j, "line {line}: {text} reaches into the grader's own state, so this submission's reports "
              "about itself cannot be believed", line=found[0].line, text=found[0].text)


def _structure(j, check: CheckResult) -> None:
    ref_params, ref_holders = reference_structure(j.build, j.spec)
    params, holders, mapping = _child_structure(j)
    problems = []
    mapped = {v: k for k, v in mapping.items() if v in ref_params}
    if missing := [n for n in ref_params if n not in mapped]:
        problems.append(_t(j, "missing parameters: {names}", names=listed(missing, lang=_lang(j))))
    # Unmapped, or a second parameter claiming a reference name already taken (a lying mapping).
    if extra := [n for n in params if mapping.get(n) not in ref_params or mapped[mapping[n]] != n]:
        problems.append(_t(j, "unexpected parameters: {names}", names=listed(extra, lang=_lang(j))))
    for ref_name, own in mapped.items():
        if params[own]["shape"] != ref_params[ref_name]:
            problems.append(_t(j, "{name} has shape {got}, expected {want}", name=own, got=params[own]["shape"],
                               want=ref_params[ref_name]))
    if holders != ref_holders:
        want = listed([f"{n} ({t})" for n, t in ref_holders.items()], lang=_lang(j)) or _t(j, "none besides the module itself")
        got = listed([f"{n} ({t})" for n, t in holders.items()], lang=_lang(j)) or _t(j, "none")
        problems.append(_t(j, "parameter-holding submodules: {got}; expected {want}", got=got, want=want))
    if j.unreported:  # the cross-check: autograd's graph, observed outside the submission's reach
        shapes = listed(sorted({_t(j, "shape {shape}", shape=s) for s in map(str, j.unreported)}), lang=_lang(j))
        problems.append(_t(j, "a tensor missing from the reported parameters received a gradient ({shapes})",
                           shapes=shapes))
    problems += _buffer_problems(j)
    if doubt := self_report_doubt(j):
        problems.append(doubt)
    check.passed = not problems
    check.message = "; ".join(problems[:6]) or _t(j, "{n} parameters as expected", n=len(ref_params))


def reference_buffers(build, spec: TaskSpec) -> dict[str, list[int]]:
    """The shapes of the task's declared buffers in the reference as the task builds it."""
    args, kwargs = spec.build.values()
    own = dict(build("reference", args, kwargs).named_buffers())
    return {b.name: list(own[b.name].shape) for b in spec.buffers if b.name in own}


def child_buffers(j) -> dict[str, dict]:
    """The declared buffers the child reported (validated by grader.grading.answer; names it was
    not asked about are dropped)."""
    declared = {b.name for b in j.spec.buffers}
    return {b["name"]: b for b in (j.meta.get("structure") or {}).get("buffers", []) if b["name"] in declared}


def _buffer_problems(j) -> list[str]:
    """Each declared buffer registered (state_dict and .to() carry only registered ones), of the
    reference's shape."""
    if not j.spec.buffers or not j.meta.get("structure"):
        return []
    want, got = reference_buffers(j.build, j.spec), child_buffers(j)
    problems = [_t(j, "the task declares the buffer {name}, which its reference does not register", name=b.name)
                for b in j.spec.buffers if b.name not in want]  # the task's fault: `bank validate` shows it
    if missing := [n for n in want if n not in got]:
        problems.append(_t(j, "missing buffers: {names}", names=listed(missing, lang=_lang(j))))
    if plain := [n for n in want if n in got and not got[n]["registered"]]:
        problems.append(_t(j, "not registered as buffers: {names} (plain attributes: state_dict and .to() "
                           "leave them out)", names=listed(plain, lang=_lang(j))))
    for name, shape in want.items():
        if name in got and got[name]["shape"] != shape:
            problems.append(_t(j, "{name} has shape {got}, expected {want}", name=name, got=got[name]["shape"],
                               want=shape))
    return problems


def _init(j, check: CheckResult) -> None:
    params, _, mapping = _child_structure(j)
    own = {v: k for k, v in mapping.items()}
    problems = []
    for expectation in j.spec.parameters:
        if expectation.init == "any":
            continue
        name = own.get(expectation.name)
        if name is None:
            problems.append(_t(j, "no parameter initialised to {init} for {name}", init=expectation.init,
                               name=expectation.name))
        elif params[name]["init"] != expectation.init:
            problems.append(_t(j, "{name} starts as {got}, expected {want}", name=name, got=params[name]["init"],
                               want=expectation.init))
    buffers = child_buffers(j)
    for expectation in j.spec.buffers:
        found = buffers.get(expectation.name)
        if expectation.init == "any":
            continue
        if found is None:
            problems.append(_t(j, "no buffer {name} to start as {init}", name=expectation.name, init=expectation.init))
        elif found["init"] != expectation.init:
            problems.append(_t(j, "{name} starts as {got}, expected {want}", name=expectation.name,
                               got=found["init"], want=expectation.init))
    if doubt := self_report_doubt(j):
        problems.append(doubt)
    check.passed = not problems
    check.message = "; ".join(problems)


def _dtype_shape(j, check: CheckResult) -> None:
    problems = []
    for probe in j.spec.graded_probes():
        if j.probe_meta(probe.name)["error"] and f"{probe.name}/out" not in j.tensors:
            continue  # no output to judge: the probe's forward check already failed
        got, why = j.got(probe, "out", j.truth[probe.name]["expected"]["out"])
        if got is None:
            problems.append(_t(j, "{probe}: output {why}", probe=probe.name, why=shown_why(probe, why, _lang(j))))
    check.passed = not problems
    check.message = "; ".join(problems)


def shown_why(probe: Probe, why: str, lang: str = "en") -> str:
    """Why a tensor was refused, as the probe may tell it: a hidden probe's shape stays hidden (say
    that it differs, not what it is)."""
    return wording.why(lang, "has the wrong shape" if probe.hidden and why.startswith("shape") else why)


def _input_unchanged(j, check: CheckResult) -> None:
    changed = []
    for probe in j.spec.probes:  # diagnostic ones too: a write is a write whichever input took it
        x = j.truth[probe.name]["x"]
        after, _ = j.got(probe, "input_after", x)
        if after is not None and not torch.equal(after, x):
            changed.append(probe.name)
        elif after is None and f"{probe.name}/input_after" in j.tensors:
            changed.append(probe.name)  # sent, but not a tensor of the input's dtype and shape
    doubt = self_report_doubt(j)
    check.passed = not changed and not doubt
    modified = _t(j, "forward modified its input ({names})", names=listed(changed, lang=_lang(j))) if changed else ""
    check.message = "; ".join(filter(None, [modified, doubt]))


def _forbidden_ops(j, check: CheckResult) -> None:
    """A forbidden name in the source fails; so does a forbidden op the child called, recorded by
    the dispatcher at the call (grader.grading.oprecord: it sees through getattr, threads and
    torch.ops), and a source reaching for what could hide a call from it (scan's tampering)."""
    findings = scan(j.job["source"], j.spec.forbidden.names)
    called = traced_matches(j.ops, j.spec.forbidden.ops) + [op for op in j.ops if not op.startswith("aten.")]
    parts = [_t(j, "line {line}: {text}", line=f.line, text=f.text) for f in findings]
    if called:
        parts.append(_t(j, "called: {ops}", ops=listed(called, lang=_lang(j))))
    if j.spec.kind == "function":
        parts += functionchecks.forbidden_findings(j)
    check.passed = not parts
    check.message = "; ".join(parts[:8])


_MODULE_CHECKS = {
    "structure": _structure,
    "init": _init,
    "dtype-shape": _dtype_shape,
    "input-unchanged": _input_unchanged,
    "forbidden-ops": _forbidden_ops,
    "gradcheck": functionchecks.gradcheck,
}


# -- per-probe checks --------------------------------------------------------------------------------
def _forward(j, probe: Probe, check: CheckResult) -> None:
    expected = j.truth[probe.name]["expected"]["out"]
    if not _finite_truth(j, probe, check):
        return
    got, why = j.got(probe, "out", expected)
    if got is None:
        error = j.probe_meta(probe.name)["error"]
        check.message = error or _t(j, "output {why}", why=shown_why(probe, why, _lang(j)))
        return
    if problem := j.mask_problems.get(probe.name):  # dropout's mask unreadable or implausible
        check.message = problem
        return
    comparisons, problems = {}, []
    for key, want in j.truth[probe.name]["expected"].items():  # a call sequence's steps in order
        if key_kind(key) != "out":
            continue
        label = _step_label(j, probe, key, _t(j, "output"))
        mine, why = (got, "") if key == "out" else j.got(probe, key, want)
        if mine is None:
            problems.append(_t(j, "{label} {why}", label=label, why=shown_why(probe, why, _lang(j))))
        else:
            comparisons[label] = cmp.compare(mine, want, _tol(probe), worst=not probe.hidden)
    _record(check, probe, comparisons, problems, lang=_lang(j))
    _measured(j, probe, "forward", comparisons, problems)


def _step_label(j, probe: Probe, key: str, what: str) -> str:
    """`what` as a check message names it: with its step for a call sequence ("step 2 (eval):
    output")."""
    if not probe.steps:
        return what
    step = key_step(key)
    i = len(probe.steps) - 1 if step is None else step
    return _t(j, "step {n} ({mode}): {what}", n=i + 1, mode=probe.steps[i], what=what)


def _backward(j, probe: Probe, check: CheckResult) -> None:
    report = j.probe_meta(probe.name)
    if not _finite_truth(j, probe, check):
        return
    if report["error"]:
        check.message = report["error"]
        return
    if report["grad_none"]:
        check.message = _t(j, "no gradient reached: {names}", names=", ".join(report["grad_none"]))
        return
    if sign := functionchecks.autograd_sign(report, j.spec.class_name, _lang(j)):
        check.message = sign  # right by construction: autograd computed them
        return
    if problem := j.mask_problems.get(probe.name):
        check.message = problem
        return
    comparisons, problems = {}, []
    for key, expected in j.truth[probe.name]["expected"].items():
        if key_kind(key) != "grad":  # outputs and buffers have checks of their own
            continue
        base = key_base(key)
        label = _t(j, "input") if base == "grad_input" else base.removeprefix("grad/")
        got, why = j.got(probe, key, expected)
        if got is None:
            problems.append(_step_label(j, probe, key, _t(j, "gradient of {name}: {why}", name=label,
                                                            why=shown_why(probe, why, _lang(j)))))
        else:
            comparisons[_step_label(j, probe, key, _t(j, "gradient of {name}", name=label))] = (
                cmp.compare(got, expected, _tol(probe), worst=not probe.hidden))
    _record(check, probe, comparisons, problems, lang=_lang(j))
    _measured(j, probe, "backward", comparisons, problems)


def _state(j, probe: Probe, check: CheckResult) -> None:
    """The task's buffers after each call of the probe (BatchNorm's running statistics), against
    the reference's after the same calls."""
    report = j.probe_meta(probe.name)
    if not _finite_truth(j, probe, check):
        return
    if report["error"] and f"{probe.name}/out" not in j.tensors:
        check.message = report["error"]  # the calls did not complete: no state to judge
        return
    comparisons, problems = {}, []
    for key, expected in j.truth[probe.name]["expected"].items():
        if key_kind(key) != "buffer":
            continue
        name = key_base(key).removeprefix("buffer/")
        got, why = j.got(probe, key, expected)
        if got is None:
            problems.append(_step_label(j, probe, key, _t(j, "buffer {name}: {why}", name=name,
                                                            why=shown_why(probe, why, _lang(j)))))
        else:
            comparisons[_step_label(j, probe, key, _t(j, "buffer {name}", name=name))] = (
                cmp.compare(got, expected, _tol(probe), worst=not probe.hidden))
    _record(check, probe, comparisons, problems, lang=_lang(j))
    _measured(j, probe, "state", comparisons, problems)


_PROBE_CHECKS = {"forward": _forward, "backward": _backward, "state": _state}


def _measured(j, probe: Probe, kind: str, comparisons: dict, problems: list) -> None:
    """What the detectors' forward_ok/backward_ok/state_ok (grader.pitfalls.measure) would compute
    again for this probe, kept for them (Judgement.verdicts): the same tensors (Judgement.got), the
    same tolerance and the same arithmetic, since measure.error's max |got - want| / scale is
    Comparison.max_rel_err, inf where anything is not finite (the truth is, or no comparison ran);
    a tensor refused is a problem here and not close() there. On a passing LayerNorm the detectors'
    second pass over ~50 tensors was a fifth of the judge's CPU."""
    tol = _tol(probe)
    j.verdicts.setdefault(probe.name, {})[kind] = not problems and all(
        c.max_rel_err is not None and c.max_rel_err <= tol for c in comparisons.values())


def _finite_truth(j, probe: Probe, check: CheckResult) -> bool:
    """A probe whose float64 truth has NaN or inf judges nothing: it fails as the task's own
    fault (`bank validate` refuses a family that can draw one)."""
    finite = j.finite.get(probe.name)
    if finite is None:  # asked by each check of the probe: its forward, backward, state
        finite = j.finite[probe.name] = all(_finite(t) for t in j.truth[probe.name]["expected"].values() if t is not None)
    if finite:
        return True
    families = _t(j, " (families: {names})", names=", ".join(probe.families)) if probe.families else ""
    check.message = _t(j, NONFINITE_TRUTH) + families
    return False


def _finite(t: torch.Tensor) -> bool:
    """Every element finite. A finite sum says so at a fraction of isfinite's cost (a NaN or inf
    element makes the sum NaN or inf); only a sum that overflowed needs the full test."""
    return math.isfinite(t.sum().item()) or bool(torch.isfinite(t).all())


def _tol(probe: Probe) -> float:
    return cmp.tolerance(probe.tolerance, probe.input.dtype)


def _record(check: CheckResult, probe: Probe, comparisons: dict, problems: list | None = None, lang: str = "en") -> None:
    """Fill a probe check from its comparisons: the worst error over them, and for a public probe
    the shape and worst elements of the first one that failed."""
    problems = list(problems or [])
    problems += [_off(label, c, probe.hidden, lang) for label, c in comparisons.items() if not c.passed]
    check.passed = not problems
    check.message = "; ".join(problems)
    errors = [c for c in comparisons.values() if c.max_rel_err is not None]
    if errors:
        worst = max(errors, key=lambda c: c.max_rel_err)
        check.max_abs_err, check.max_rel_err = cmp.finite(worst.max_abs_err), cmp.finite(worst.max_rel_err)
    failed = next((c for c in comparisons.values() if not c.passed), None)
    if not probe.hidden and failed is not None:
        check.shape = list(failed.shape) if failed.shape is not None else None
        check.mismatched, check.total, check.worst = failed.mismatched, failed.total, failed.worst


def _off(label: str, c: cmp.Comparison, hidden: bool, lang: str) -> str:
    """"output: 3 / 128 elements off", or for a hidden probe a percentage: the count would give away
    the input's size."""
    if not hidden:
        return wording.say(lang, "{label}: {count} elements off", label=label, count=f"{c.mismatched} / {c.total}")
    share = 100 * c.mismatched / max(c.total, 1)
    if share < 1:
        return wording.say(lang, "{label}: under 1% of the elements off", label=label)
    return wording.say(lang, "{label}: {share}% of the elements off", label=label, share=f"{share:.0f}")
