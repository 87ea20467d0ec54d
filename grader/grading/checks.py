"""The judge's checks, one function per kind, each from the truth and the child's validated data.

`plan` lists every check a complete run makes (the error path uses it for max_score);
`build_checks` makes them in that order. Public probe checks carry the shape and the worst elements;
hidden ones carry only their name, their errors and messages that never show an input.
"""
from __future__ import annotations

import torch

from grader.grading import compare as cmp
from grader.grading.forbidden import scan, trace_gap, traced_matches
from grader.results import CheckResult
from grader.bank.tasks import example_line
from grader.bank.taskspec import Probe, TaskSpec


def plan(spec: TaskSpec) -> list[tuple[str, str, bool, float]]:
    """Every check a complete run makes, in report order: (name, kind, hidden, points)."""
    pts = spec.points
    checks = [("structure", "structure", False, pts.structure)]
    if any(e.init != "any" for e in spec.parameters):
        checks.append(("init", "init", False, pts.init))
    for probe in spec.graded_probes():
        checks += [(f"{probe.name}/{c}", c, probe.hidden, probe.points) for c in probe.checks]
    checks += [("dtype-shape", "dtype-shape", False, pts.dtype_shape),
               ("input-unchanged", "input-unchanged", False, pts.input_unchanged)]
    if spec.forbidden:
        checks.append(("forbidden-ops", "forbidden-ops", False, pts.forbidden_ops))
    return checks


def build_checks(j) -> list[CheckResult]:
    """`j` is a grader.grading.judge.Judgement."""
    probes = {p.name: p for p in j.spec.graded_probes()}
    results = []
    for name, kind, hidden, points in plan(j.spec):
        check = CheckResult(name=name, kind=kind, hidden=hidden, passed=False, points=points)
        if kind in ("forward", "backward"):
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


def _child_structure(j) -> tuple[dict[str, dict], dict[str, str], dict[str, str]]:
    """The child's parameters, parameter-holding submodules and name mapping, well-typed."""
    raw = j.meta.get("structure")
    raw = raw if isinstance(raw, dict) else {}
    params = {str(p.get("name")): p for p in raw.get("parameters") or [] if isinstance(p, dict)}
    holders = {str(m.get("name")): str(m.get("type")) for m in raw.get("submodules") or [] if isinstance(m, dict)}
    mapping = raw.get("mapping") if isinstance(raw.get("mapping"), dict) else {}
    mapping = {str(k): str(v) for k, v in mapping.items() if k in params}
    return params, holders, mapping


def _structure(j, check: CheckResult) -> None:
    ref_params, ref_holders = reference_structure(j.build, j.spec)
    params, holders, mapping = _child_structure(j)
    problems = []
    mapped = {v: k for k, v in mapping.items() if v in ref_params}
    if missing := [n for n in ref_params if n not in mapped]:
        problems.append("missing parameters: " + ", ".join(missing))
    # Unmapped, or a second parameter claiming a reference name already taken (a lying mapping).
    if extra := [n for n in params if mapping.get(n) not in ref_params or mapped[mapping[n]] != n]:
        problems.append("unexpected parameters: " + ", ".join(extra))
    for ref_name, own in mapped.items():
        if list(params[own].get("shape") or []) != ref_params[ref_name]:
            problems.append(f"{own} has shape {params[own].get('shape')}, expected {ref_params[ref_name]}")
    if holders != ref_holders:
        want = ", ".join(f"{n} ({t})" for n, t in ref_holders.items()) or "none besides the module itself"
        got = ", ".join(f"{n} ({t})" for n, t in holders.items()) or "none"
        problems.append(f"parameter-holding submodules: {got}; expected {want}")
    check.passed = not problems
    check.message = "; ".join(problems) or f"{len(ref_params)} parameters as expected"


def _init(j, check: CheckResult) -> None:
    params, _, mapping = _child_structure(j)
    own = {v: k for k, v in mapping.items()}
    problems = []
    for expectation in j.spec.parameters:
        if expectation.init == "any":
            continue
        name = own.get(expectation.name)
        if name is None:
            problems.append(f"no parameter initialised to {expectation.init} for {expectation.name}")
        elif params[name].get("init") != expectation.init:
            problems.append(f"{name} starts as {params[name].get('init')}, expected {expectation.init}")
    check.passed = not problems
    check.message = "; ".join(problems)


def _dtype_shape(j, check: CheckResult) -> None:
    problems = []
    for probe in j.spec.graded_probes():
        if j.probe_meta(probe.name)["error"] and f"{probe.name}/out" not in j.tensors:
            continue  # no output to judge: the probe's forward check already failed
        got, why = j.got(probe, "out", j.truth[probe.name]["expected"]["out"])
        if got is None:
            problems.append(f"{probe.name}: output {shown_why(probe, why)}")
    check.passed = not problems
    check.message = "; ".join(problems)


def shown_why(probe: Probe, why: str) -> str:
    """Why a tensor was refused, as the probe may tell it: a hidden probe's shape stays hidden (say
    that it differs, not what it is)."""
    return "has the wrong shape" if probe.hidden and why.startswith("shape") else why


def _input_unchanged(j, check: CheckResult) -> None:
    changed = []
    for probe in j.spec.probes:  # diagnostic ones too: a write is a write whichever input took it
        x = j.truth[probe.name]["x"]
        after, _ = j.got(probe, "input_after", x)
        if after is not None and not torch.equal(after, x):
            changed.append(probe.name)
        elif after is None and f"{probe.name}/input_after" in j.tensors:
            changed.append(probe.name)  # sent, but not a tensor of the input's dtype and shape
    check.passed = not changed
    check.message = f"forward modified its input ({', '.join(changed)})" if changed else ""


def _forbidden_ops(j, check: CheckResult) -> None:
    """A forbidden name in the source fails; so does a forbidden op traced in the child (the trace
    is the child's own report, so it can only count against it, and it sees through getattr)."""
    findings = scan(j.job["source"], j.spec.forbidden.names)
    ops = j.meta.get("traced_ops")
    ops = ops if isinstance(ops, list) else []
    traced = traced_matches(ops, j.spec.forbidden.ops)
    parts = [f"line {f.line}: {f.text}" for f in findings]
    if traced:
        parts.append("traced ops: " + ", ".join(traced))
    if gap := trace_gap(ops, any(k.endswith("/out") for k in j.tensors)):
        parts.append(gap)
    check.passed = not parts
    check.message = "; ".join(parts)


_MODULE_CHECKS = {
    "structure": _structure,
    "init": _init,
    "dtype-shape": _dtype_shape,
    "input-unchanged": _input_unchanged,
    "forbidden-ops": _forbidden_ops,
}


# -- per-probe checks --------------------------------------------------------------------------------
def _forward(j, probe: Probe, check: CheckResult) -> None:
    expected = j.truth[probe.name]["expected"]["out"]
    if not _finite_truth(j, probe, check):
        return
    got, why = j.got(probe, "out", expected)
    if got is None:
        error = j.probe_meta(probe.name)["error"]
        check.message = error or f"output {shown_why(probe, why)}"
        return
    _record(check, probe, {"output": cmp.compare(got, expected, _tol(probe))})


def _backward(j, probe: Probe, check: CheckResult) -> None:
    report = j.probe_meta(probe.name)
    if not _finite_truth(j, probe, check):
        return
    if report["error"]:
        check.message = report["error"]
        return
    if report["grad_none"]:
        check.message = "no gradient reached: " + ", ".join(report["grad_none"])
        return
    comparisons, problems = {}, []
    for key, expected in j.truth[probe.name]["expected"].items():
        if key == "out":
            continue
        label = "input" if key == "grad_input" else key.removeprefix("grad/")
        got, why = j.got(probe, key, expected)
        if got is None:
            problems.append(f"gradient of {label}: {shown_why(probe, why)}")
        else:
            comparisons[f"gradient of {label}"] = cmp.compare(got, expected, _tol(probe))
    _record(check, probe, comparisons, problems)


_PROBE_CHECKS = {"forward": _forward, "backward": _backward}
NONFINITE_TRUTH = "the reference's float64 result is not finite on this probe"


def _finite_truth(j, probe: Probe, check: CheckResult) -> bool:
    """A probe whose float64 truth has NaN or inf judges nothing: it fails as the task's own
    fault (`bank validate` refuses a family that can draw one)."""
    if all(bool(torch.isfinite(t).all()) for t in j.truth[probe.name]["expected"].values() if t is not None):
        return True
    check.message = NONFINITE_TRUTH + (f" (families: {', '.join(probe.families)})" if probe.families else "")
    return False


def _tol(probe: Probe) -> float:
    return cmp.tolerance(probe.tolerance, probe.input.dtype)


def _record(check: CheckResult, probe: Probe, comparisons: dict, problems: list | None = None) -> None:
    """Fill a probe check from its comparisons: the worst error over them, and for a public probe
    the shape and worst elements of the first one that failed."""
    problems = list(problems or [])
    problems += [f"{label}: {_off(c, probe.hidden)} elements off" for label, c in comparisons.items() if not c.passed]
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


def _off(c: cmp.Comparison, hidden: bool) -> str:
    """"3 / 128", or for a hidden probe a percentage: the count would give away the input's size."""
    if not hidden:
        return f"{c.mismatched} / {c.total}"
    share = 100 * c.mismatched / max(c.total, 1)
    return f"{share:.0f}% of the" if share >= 1 else "under 1% of the"
