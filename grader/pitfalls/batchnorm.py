"""Behavioural BatchNorm detectors: which statistics, which update, which mode?

The judge replays each probe's calls in float64 (its steps, or its earlier calls and its own) under
every combination of the known mistakes: the unbiased variance where the biased one normalizes, the
biased one in the running estimate, the update skipped or also made in eval mode (before or after
normalizing), the momentum on the old value or ignored, the batch's statistics in eval mode. The
simplest combination that reproduces every output and every running statistic the child reported
after each call is named. Statistics over the features (layer norm) are tried on the train-mode
outputs alone, where the running statistics play no part. The structure report names running
statistics that are not registered buffers and wrong initial values.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from grader.grading.probes import key_step, present, step_prefix
from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.pitfalls.measure import (
    backward_ok, close, construction, detector, error, fmt, forward_ok, keys_of, ran, state_ok,
)

DEFAULTS = {"eps": 1e-5, "momentum": 0.1}  # nn.BatchNorm1d's, when a probe's construction gives none
STATS = ("running_mean", "running_var")


@dataclass(frozen=True)
class Variant:
    """One way to run batch norm over a call sequence; the default is the right one."""

    batch_var: str = "biased"  # biased | unbiased: the variance that normalizes in training
    running_var: str = "unbiased"  # unbiased | biased: what running_var moves toward
    update: str = "train"  # train | never | eval-before | eval-after (eval mode updates too)
    momentum: str = "new"  # new | old (momentum weighs the old value) | fixed (0.1 whatever is given)
    eval_stats: str = "running"  # running | batch

    def pitfalls(self) -> list[tuple[str, str]]:
        found = []
        if self.batch_var == "unbiased":
            found.append(("unbiased-batch-variance", "the batch variance divided by n - 1 to normalize"))
        if self.running_var == "biased":
            found.append(("biased-running-variance", "running_var moved toward the biased variance"))
        if self.update == "never":
            found.append(("running-stats-not-updated", "the running statistics never updated"))
        elif self.update != "train":
            when = "before" if self.update == "eval-before" else "after"
            found.append(("running-stats-updated-in-eval", f"the running statistics also updated in eval mode "
                                                           f"({when} normalizing)"))
        if self.momentum != "new":
            found.append(("wrong-momentum", "running = momentum * running + (1 - momentum) * batch"
                          if self.momentum == "old" else "momentum 0.1 whatever the module is built with"))
        if self.eval_stats == "batch":
            found.append(("batch-stats-in-eval", "eval mode normalizing with the batch's statistics"))
        return found


VARIANTS = sorted(
    (Variant(*combo) for combo in itertools.product(
        ("biased", "unbiased"), ("unbiased", "biased"), ("train", "never", "eval-before", "eval-after"),
        ("new", "old", "fixed"), ("running", "batch"))),
    key=lambda v: len(v.pitfalls()),
)
RIGHT = VARIANTS[0]


@dataclass(frozen=True)
class Setting:
    eps: float
    momentum: float


def setting(ev: Evidence, probe: ProbeEvidence) -> Setting | None:
    """BatchNorm1d(num_features, eps=1e-5, momentum=0.1) as the probe builds it."""
    args, kwargs = construction(ev, probe)
    eps = kwargs.get("eps", args[1] if len(args) > 1 else DEFAULTS["eps"])
    momentum = kwargs.get("momentum", args[2] if len(args) > 2 else DEFAULTS["momentum"])
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (eps, momentum)):
        return None
    return Setting(float(eps), float(momentum))


def calls(probe: ProbeEvidence) -> list[tuple[str, torch.Tensor, str | None]]:
    """(mode, input, key prefix or None for a call nobody reported) for every call of the probe."""
    if probe.steps:
        return [(mode, x, step_prefix(i, len(probe.steps))) for i, (mode, x, _) in enumerate(probe.steps)]
    spec = probe.spec
    return [(spec.mode, probe.first, None)] * (spec.calls - 1) + [(spec.mode, probe.x, "")]


def _shape(x: torch.Tensor) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The dims statistics are taken over, and the view that broadcasts a (C,) statistic."""
    return ((0,), (1, -1)) if x.ndim == 2 else ((0, 2), (1, -1, 1))


def replay(probe: ProbeEvidence, s: Setting, v: Variant, leaves: list | None = None,
           detach: bool = False) -> dict[str, torch.Tensor]:
    """The variant's outputs and running statistics after every call, keyed as the child keys
    them, in float64. `leaves` (one per call) replace the inputs, to differentiate; `detach` cuts
    the batch statistics out of the graph."""
    weight, bias = (probe.params.get(n) for n in ("weight", "bias"))
    running = None
    found = {}
    for i, (mode, x, prefix) in enumerate(calls(probe)):
        x = present(leaves[i], probe.spec.layout) if leaves else x.detach().double()
        dims, shape = _shape(x)
        channels = x.shape[1]
        if running is None:
            running = [torch.zeros(channels, dtype=torch.float64), torch.ones(channels, dtype=torch.float64)]
        n = x.numel() // channels
        mean = x.mean(dims)
        biased = ((x - mean.view(shape)) ** 2).mean(dims)
        unbiased = biased * n / (n - 1)
        normalizing = unbiased if v.batch_var == "unbiased" else biased
        batch = (mean.detach(), normalizing.detach()) if detach else (mean, normalizing)
        target = (mean.detach(), (unbiased if v.running_var == "unbiased" else biased).detach())
        train = mode == "train"
        if train or v.update == "eval-before":
            running = _update(running, target, s, v) if v.update != "never" else running
        stats = batch if train or v.eval_stats == "batch" else running
        y = (x - stats[0].view(shape)) / torch.sqrt(stats[1].view(shape) + s.eps)
        if weight is not None and bias is not None:
            y = y * weight.double().view(shape) + bias.double().view(shape)
        if not train and v.update == "eval-after":
            running = _update(running, target, s, v)
        if prefix is not None:
            found[prefix + "out"] = y
            found.update({f"{prefix}buffer/{name}": value for name, value in zip(STATS, running)})
    return found


def _update(running: list, target: tuple, s: Setting, v: Variant) -> list:
    m = 0.1 if v.momentum == "fixed" else s.momentum
    if v.momentum == "old":
        return [m * r + (1 - m) * t for r, t in zip(running, target)]
    return [(1 - m) * r + m * t for r, t in zip(running, target)]


def _fits(probe: ProbeEvidence, predicted: dict[str, torch.Tensor]) -> bool:
    """Every output and running statistic the child sent equals the prediction (a buffer the child
    did not send, under another name, leaves the outputs to decide)."""
    got = probe.got or {}
    return all(close(got[key], predicted[key], probe) for key in predicted if key in got)


def _searchable(ev: Evidence) -> list[tuple[ProbeEvidence, Setting]]:
    """Probes whose calls all produced an output, with a construction we can read."""
    return [(p, s) for p in ran(ev) if (s := setting(ev, p)) is not None and p.x.ndim in (2, 3)
            and all(prefix is None or prefix + "out" in (p.got or {}) for _, _, prefix in calls(p))]


def explain(probes: list[tuple[ProbeEvidence, Setting]]) -> Variant | None:
    """The simplest variant reproducing every probe's outputs and running statistics, or None."""
    for v in VARIANTS:
        if all(_fits(p, replay(p, s, v)) for p, s in probes):
            return v
    return None


@detector("unbiased-batch-variance", "biased-running-variance", "running-stats-not-updated",
          "running-stats-updated-in-eval", "wrong-momentum", "batch-stats-in-eval", "stats-over-features",
          "detached-statistics")
def batchnorm_calls(ev: Evidence):
    if not ev.task.buffers or all(forward_ok(p) and backward_ok(p) and state_ok(p) for p in ran(ev)):
        return
    probes = _searchable(ev)
    if not probes:
        return
    v = explain(probes)
    if v is None:
        yield from _over_features(probes)
        return
    for pitfall, what in v.pitfalls():
        yield pitfall, _evidence(probes, v, what)
    if v == RIGHT:
        yield from _detached(probes)


def _evidence(probes, v: Variant, what: str) -> str:
    """The reported tensor where the variant is furthest from the reference, with both errors."""
    worst = (-1.0, None, "", None)
    for p, s in probes:
        for key, value in replay(p, s, v).items():
            if key in (p.got or {}) and key in p.expected and (off := error(value, p.expected[key])) > worst[0]:
                worst = (off, p, key, value)
    _, p, key, value = worst
    got = p.got[key]
    return (f"probe {p.name}: {_key_text(p, key)} is off the reference by {fmt(error(got, p.expected[key]))} "
            f"(relative), within {fmt(error(got, value))} of the replay with {what}")


def _key_text(p: ProbeEvidence, key: str) -> str:
    """"the output after step 2 (eval)", "running_var after the call"."""
    what = key.rsplit("/", 1)[-1] if "buffer/" in key else "the output"
    if not p.steps:
        return f"{what} after the call"
    i = key_step(key)
    i = len(p.steps) - 1 if i is None else i
    return f"{what} after step {i + 1} ({p.steps[i][0]})"


def _over_features(probes):
    """Train-mode outputs that equal each sample normalized over its own features (layer norm):
    over dim 1, over the last dim (the same for (N, C)) or over both of (N, C, L)."""
    outs = [(p, s, x, prefix) for p, s in probes for mode, x, prefix in calls(p)
            if mode == "train" and prefix is not None]
    for dims, correction in itertools.product(((1,), (-1,), (1, 2)), (0, 1)):
        fitting = [(p, s, x, prefix) for p, s, x, prefix in outs if x.ndim == 3 or dims != (1, 2)]
        if fitting and all(close((p.got or {}).get(prefix + "out"), _per_sample(p, x, s, dims, correction), p)
                           for p, s, x, prefix in fitting):
            yield "stats-over-features", (
                f"probe {fitting[0][0].name}: {len(fitting)} train-mode outputs equal each sample normalized over "
                f"its own features (dims {dims}{', unbiased variance' if correction else ''}): layer norm, not "
                "batch norm")
            return


def _per_sample(p: ProbeEvidence, x: torch.Tensor, s: Setting, dims: tuple, correction: int) -> torch.Tensor:
    x = x.detach().double()
    _, shape = _shape(x)
    mean = x.mean(dims, keepdim=True)
    var = x.var(dims, keepdim=True, correction=correction)
    y = (x - mean) / torch.sqrt(var + s.eps)
    weight, bias = p.params.get("weight"), p.params.get("bias")
    if weight is not None and bias is not None:
        y = y * weight.double().view(shape) + bias.double().view(shape)
    return y


def _detached(probes):
    """Outputs and statistics right, input gradients wrong: are they those of the batch statistics
    detached from the graph (computed under no_grad with the running update)?"""
    failing = [(p, s) for p, s in probes if not backward_ok(p)]
    found = []
    for p, s in failing:
        keys = [prefix + "grad_input" for _, _, prefix in calls(p) if prefix is not None]
        if not any(k in (p.got or {}) for k in keys):
            return
        grads = _input_grads(p, s, detach=True)
        if not all(close(p.got[k], grads[k], p) for k in keys if k in p.got and k in grads):
            return
        found.append(p)
    if found:
        p = found[0]
        key = next(k for k in keys_of(p, "grad") if k.endswith("grad_input") and k in (p.got or {}))
        yield "detached-statistics", (
            f"probe {p.name}: output right, input gradient off by {fmt(error(p.got[key], p.expected[key]))} "
            f"(relative); it equals the gradient with the batch mean and variance detached")


def _input_grads(p: ProbeEvidence, s: Setting, detach: bool) -> dict[str, torch.Tensor]:
    """d sum(out_i * upstream_i) / d x_i for every reported call i, replayed in float64."""
    steps = calls(p)
    leaves = [x.detach().double().requires_grad_(True) for _, x, _ in steps]
    outs = replay(p, s, RIGHT, leaves=leaves, detach=detach)
    upstreams = [u for _, _, u in p.steps] if p.steps else [None] * (len(steps) - 1) + [p.upstream]
    grads = {}
    for leaf, (_, _, prefix), upstream in zip(leaves, steps, upstreams):
        if prefix is None or upstream is None:
            continue
        (grad,) = torch.autograd.grad((outs[prefix + "out"] * upstream.double()).sum(), leaf, retain_graph=True)
        grads[prefix + "grad_input"] = grad
    return grads


@detector("unregistered-buffers", "running-stats-init")
def running_buffers(ev: Evidence):
    """The fresh module's declared buffers, from the child's structure report."""
    if not ev.task.buffers or not ev.structure:
        return
    held = {b["name"]: b for b in ev.structure.get("buffers", [])}
    declared = [b.name for b in ev.task.buffers]
    if missing := [n for n in declared if n not in held]:
        yield "unregistered-buffers", f"structure: no buffer named {', '.join(missing)}"
    if plain := [n for n in declared if n in held and not held[n]["registered"]]:
        yield "unregistered-buffers", (f"structure: {', '.join(plain)} held as plain tensor attributes "
                                       "(not in state_dict)")
    wrong = [f"{b.name} starts as {held[b.name]['init']}, expected {b.init}" for b in ev.task.buffers
             if b.init != "any" and b.name in held and held[b.name]["init"] != b.init]
    if wrong:
        yield "running-stats-init", "structure: " + ", ".join(wrong)
