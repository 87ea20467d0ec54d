"""Detectors every task shares: structure against the reference, writes into the input, gradients
that never arrived, forbidden built-ins, and the plain fallback (wrong output or gradient, with the
worst elements) when nothing more specific explains a failure.

Task-specific behavioural detectors live beside this module (layernorm.py, residual.py); all of
them register through grader.pitfalls.measure.detector.
"""
from __future__ import annotations

import torch

from grader.grading import forbidden
from grader.grading.checks import listed, reference_structure
from grader.grading.compare import compare
from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.pitfalls.measure import backward_ok, close, detector, error, fmt, forward_ok, grad_keys, out_of, ran, tol
from grader.results import number_text

WORST_QUOTED = 3  # elements quoted from a failed public probe


@detector("extra-layers", "missing-affine", "missing-parameters", "affine-init", "param-names")
def structure(ev: Evidence):
    """The fresh module's parameters and parameter-holding submodules against the reference's."""
    if ev.build is None or not ev.structure:
        return
    ref_params, ref_holders = reference_structure(ev.build, ev.task)
    # The structure was validated by grader.grading.answer (types right, counts bounded); every
    # step below is linear in its size.
    params = {p["name"]: p for p in ev.structure.get("parameters", [])}
    holders = {m["name"]: m["type"] for m in ev.structure.get("submodules", [])}
    mapping = {k: v for k, v in ev.structure.get("mapping", {}).items() if k in params and v in ref_params}
    stand_ins = _stand_ins(ref_params, params, mapping)

    extra = [f"{name} ({kind})" for name, kind in holders.items() if name not in ref_holders]
    extra_holders = set(holders) - set(ref_holders)
    standing_in = set(stand_ins.values())
    # A parameter of its own (a learnable scale or gate), not inside an extra layer named above.
    loose = [f"{name} (shape {params[name]['shape']})" for name in params
             if name not in mapping and name not in standing_in and name.rpartition(".")[0] not in extra_holders]
    # A tensor that took a gradient but is missing from the module's own report (seen in autograd's
    # graph by the child's main thread): a parameter hidden from named_parameters().
    loose += [f"unreported (shape {shape})" for shape in ev.structure.get("unreported", [])]
    if extra or loose:
        yield "extra-layers", "structure: " + "; ".join(
            ([listed(extra) + ": not in the reference"] if extra else [])
            + (["extra parameters " + listed(loose)] if loose else []))
    yield from _affine(ev, ref_params, params, mapping, stand_ins)


def _stand_ins(ref_params: dict, params: dict, mapping: dict) -> dict[str, str]:
    """reference name -> the unmatched parameter of its shape and submodule standing in for it: the
    same parameter with a wrong initial value. Linear in the child's parameters (grouped once)."""
    mapped = set(mapping.values())
    by_place: dict[tuple, str] = {}
    for own, p in params.items():
        if own not in mapping:
            by_place[(own.rpartition(".")[0], tuple(p["shape"]))] = own  # the last, as before
    return {n: by_place[key] for n in ref_params if n not in mapped
            if (key := (n.rpartition(".")[0], tuple(ref_params[n]))) in by_place}


def _affine(ev: Evidence, ref_params: dict, params: dict, mapping: dict, stand_ins: dict):
    """Missing, misinitialised or renamed parameters, judged against the task's expectations."""
    inits = {e.name: e.init for e in ev.task.parameters}
    mapped = {ref: own for own, ref in mapping.items()}
    missing = [n for n in ref_params if n not in mapped]
    if absent := [n for n in missing if n not in stand_ins]:
        # One finding, two ids: a norm's missing weight/bias is its affine part; elsewhere (a Linear
        # built with bias=False) it is a missing parameter. diagnose() keeps the one the task applies.
        for pitfall in ("missing-affine", "missing-parameters"):
            yield pitfall, f"structure: no parameter for {', '.join(absent)}"
    wrong_init = [(own, ref) for ref, own in {**mapped, **stand_ins}.items()
                  if inits.get(ref, "any") not in ("any", params[own].get("init"))]
    if wrong_init:
        yield "affine-init", "structure: " + ", ".join(
            f"{own} starts as {_init_text(params[own].get('init'))}, expected {inits[ref]}" for own, ref in wrong_init)
    renamed = [f"{own} stands for {ref}" for own, ref in mapping.items() if own != ref]
    if renamed:
        yield "param-names", "structure: " + ", ".join(renamed) + " (matched by initial value)"


def _init_text(label) -> str:
    """The child labels a fresh parameter ones, zeros or other."""
    return label if label in ("ones", "zeros") else "other values"


@detector("modifies-input")
def input_writes(ev: Evidence):
    for p in ev.probes.values():
        if p.input_changed:
            yield "modifies-input", f"probe {p.name}: the input's values changed during forward"
            return
        if p.version_bumped:
            yield "modifies-input", f"probe {p.name}: an in-place write on the input (its version counter moved)"
            return


@detector("wrong-gradient")
def missing_grads(ev: Evidence):
    """A parameter whose .grad stayed None was cut off from the output (no_grad, .detach()), while
    forward is right: a wrong output is unused_parameters' to explain."""
    if not forward_right(ev):
        return
    for p in ev.probes.values():
        if p.grad_none and out_of(p) is not None:
            yield "wrong-gradient", (
                f"probe {p.name}: no gradient reached {', '.join(p.grad_none)} (.grad is None: detached)")
            return


@detector("unused-parameter")
def unused_parameters(ev: Evidence):
    """A parameter no gradient reaches (None or all zeros) whose neutral value (0 for a bias, 1 for a
    gain) makes the reference reproduce the output: forward never uses it."""
    if ev.build is None:
        return
    for p in ran(ev):
        unused = [n for n in p.params if n in p.grad_none or _zero_grad(p, n)]
        if not unused or p.spec.params == "init" or forward_ok(p):
            continue
        neutral = {n: torch.zeros_like(v) if n.rsplit(".", 1)[-1] == "bias" else torch.ones_like(v)
                   for n, v in p.params.items() if n in unused}
        if close(out_of(p), _reference_out(ev, p, {**p.params, **neutral}), p):
            mode = " in eval mode" if p.spec.mode == "eval" else ""
            yield "unused-parameter", (
                f"probe {p.name}: no gradient reaches {', '.join(unused)}, and the output is the reference's "
                f"with {', '.join(f'{n} = {_neutral_text(n)}' for n in unused)} (forward never uses it{mode})")
            return


def _zero_grad(p: ProbeEvidence, name: str) -> bool:
    got, want = (p.got or {}).get(f"grad/{name}"), p.expected.get(f"grad/{name}")
    return got is not None and want is not None and not bool(got.any()) and bool(want.any())


def _neutral_text(name: str) -> str:
    return "0" if name.rsplit(".", 1)[-1] == "bias" else "1"


def _reference_out(ev: Evidence, p: ProbeEvidence, params: dict):
    """The float64 reference's output on the probe's input with the given parameter values."""
    args, kwargs = ev.task.build_for(p.spec).values()
    ref = ev.build("reference", args, kwargs).to(torch.float64).train(p.spec.mode == "train")
    own = dict(ref.named_parameters())
    with torch.no_grad():
        for name, value in params.items():
            if name in own and own[name].shape == value.shape:
                own[name].copy_(value)
        return ref(p.x.detach().double())


def forward_right(ev: Evidence) -> bool:
    """Every graded forward check passed: what a pitfall titled "forward is right" needs."""
    return all(out_of(p) is not None and forward_ok(p)  # an error in backward leaves the output
               for p in ev.probes.values() if not p.spec.diagnostic and "forward" in p.spec.checks)


@detector("forbidden-builtin")
def forbidden_builtins(ev: Evidence):
    found = forbidden.scan(ev.source, ev.task.forbidden.names)
    if found:
        yield "forbidden-builtin", "; ".join(f"line {f.line}: {f.text}" for f in found)
    ops = forbidden.traced_matches(ev.traced_ops, ev.task.forbidden.ops)
    if ops:
        yield "forbidden-builtin", "called in forward (recorded at the dispatcher): " + listed(ops)


def fallback(ev: Evidence):
    """When a graded probe fails and nothing specific explains it: say so plainly. Hidden probes are
    named with their error only; a public one also quotes its worst elements."""
    graded = [p for p in ev.probes.values() if not p.spec.diagnostic and out_of(p) is not None]
    wrong = [p for p in graded if "forward" in p.spec.checks and not forward_ok(p)]
    if wrong:
        p = _pick(wrong)
        yield "wrong-output", _describe(p, "out", "output")
        return
    wrong = [p for p in graded if "backward" in p.spec.checks and not backward_ok(p)]
    if wrong:
        p = _pick(wrong)
        key = next(k for k in grad_keys(p) if not close((p.got or {}).get(k), p.expected[k], p))
        yield "wrong-gradient", _describe(p, key, "output right, " + _grad_name(key))
        return
    yield from _failed_runs(ev)


def _failed_runs(ev: Evidence):
    """No tensor to compare: forward raised or returned something that is not the output tensor
    (a tuple, a numpy array, float16), or backward raised. Name it with the child's own words."""
    failed = [p for p in ev.probes.values() if not p.spec.diagnostic and p.error]
    if not failed:
        return
    p = _pick(failed)
    if out_of(p) is None:
        yield "wrong-output", f"probe {p.name}: no output to compare: {p.error}"
    else:
        yield "wrong-gradient", f"probe {p.name}: backward failed: {p.error}"


def _pick(probes: list[ProbeEvidence]) -> ProbeEvidence:
    """A public probe when one failed (its elements may be shown), else the first."""
    return next((p for p in probes if not p.spec.hidden), probes[0])


def _grad_name(key: str) -> str:
    return "input gradient" if key == "grad_input" else f"gradient of {key.split('/', 1)[1]}"


def _describe(p: ProbeEvidence, key: str, what: str) -> str:
    got = (p.got or {}).get(key)
    if got is None:
        return f"probe {p.name}: {what} missing" + (f" ({p.error})" if p.error else "")
    text = f"probe {p.name}: {what} off by {fmt(error(got, p.expected[key]))} (relative)"
    if p.spec.hidden:
        return text
    worst = compare(got, p.expected[key], tol(p)).worst[:WORST_QUOTED]
    return text + "; worst: " + ", ".join(
        f"{m.index} got {number_text(m.got)} expected {number_text(m.expected)}" for m in worst)
