"""Call sequences with state: a probe's steps (train and eval calls on one module) and the buffers
(BatchNorm's running statistics) reported after each.

Both sides use it. In the child, on the submission's thread, `buffer_values` snapshots the task's
declared buffers after a call and `buffer_report` says how the fresh module holds them; what they
return is the submission's and is checked on the main thread and again by the judge. In the
judge, `run_steps` runs a trusted module (the float64 reference, a mutant in the probe's dtype)
through the probe exactly as the child runs the submission, and keys every tensor as the child
does (grader.grading.probes.step_prefix).
"""
from __future__ import annotations

import contextlib
from typing import Callable

import torch

from grader.grading.probes import backward, present, step_prefix


def _held(module: torch.nn.Module, name: str, registered: dict):
    """The tensor the module holds as `name`: its registered buffer, else a plain tensor attribute
    (what `self.running_mean = torch.zeros(n)` makes), else None."""
    if name in registered:
        return registered[name]
    owner, _, leaf = name.rpartition(".")
    try:
        holder = module.get_submodule(owner) if owner else module
        value = getattr(holder, leaf, None)
    except Exception:  # noqa: BLE001 - a submission's __getattr__ may raise anything
        return None
    return value if isinstance(value, torch.Tensor) else None


def buffer_report(module: torch.nn.Module, spec) -> list[dict]:
    """On the submission's thread: each declared buffer the fresh module holds, with its shape, its
    initial value and whether it is registered (state_dict and .to() carry only registered ones)."""
    registered = dict(module.named_buffers())
    found = []
    for expected in spec.buffers:
        value = _held(module, expected.name, registered)
        if value is not None:
            found.append({"name": expected.name, "shape": list(value.shape),
                          "dtype": str(value.dtype).removeprefix("torch."), "init": init_of(value),
                          "registered": expected.name in registered})
    return found


def init_of(t: torch.Tensor) -> str:
    """ones, zeros or other: a fresh parameter's or buffer's value as the init checks read it."""
    with torch.no_grad():
        if bool((t == 1).all()):
            return "ones"
        if bool((t == 0).all()):
            return "zeros"
    return "other"


def buffer_values(module: torch.nn.Module, spec, prefix: str = "") -> list[tuple[str, torch.Tensor]]:
    """On the submission's thread, right after a call: copies of the declared buffers, registered
    or plain attributes (registration is the structure check's to judge), keyed `buffer/<name>`.
    Copies: an honest module updates its buffers in place at the next call."""
    registered = dict(module.named_buffers())
    found = []
    for expected in spec.buffers:
        value = _held(module, expected.name, registered)
        if value is not None:
            found.append((f"{prefix}buffer/{expected.name}", value.detach().clone()))
    return found


def run_steps(module: torch.nn.Module, probe, dtype: torch.dtype, buffers: list[str], inputs: list,
              upstream: Callable[[int, torch.Size], torch.Tensor], first=None,
              with_backward: bool = True) -> tuple[dict, list]:
    """Trusted side: run `module` (parameters loaded) through the probe as the child runs it: its
    steps, or its earlier calls (on `first`) and its own call, in its mode. `inputs` holds each
    step's input (one for a probe without steps), cast to `dtype` (float64 for the truth);
    `upstream(i, shape)` gives step i's upstream gradient. Parameter gradients are cleared before
    each backward. Returns the tensors keyed as the child keys them (out, grad_input, grad/<name>,
    buffer/<name>, an earlier step's under its prefix) and the upstream gradients used."""
    context = torch.no_grad if probe.grad == "no_grad" else contextlib.nullcontext
    modes = probe.steps or [probe.mode]
    if not probe.steps:
        module.train(probe.mode == "train")
        for _ in range(probe.calls - 1):  # earlier calls on another input, as the child makes them
            with context():
                module(present(first.to(dtype), probe.layout))
    params = dict(module.named_parameters())
    found: dict = {}
    used = []
    for i, (mode, x) in enumerate(zip(modes, inputs)):
        prefix = step_prefix(i, len(modes))
        module.train(mode == "train")
        # A leaf of its own: x.to() of the same dtype is x itself, and a gradient accumulated into
        # the caller's tensor would change it (a judge keeps the truth for the next job).
        leaf = x.detach().to(dtype, copy=True).requires_grad_(probe.grad == "requires")
        with context():
            out = module(present(leaf, probe.layout))
        found[prefix + "out"] = out.detach()
        named = dict(module.named_buffers())
        held = {name: _held(module, name, named) for name in buffers}  # a mutant's plain attributes too
        found.update({f"{prefix}buffer/{name}": t.detach().clone() for name, t in held.items() if t is not None})
        used.append(upstream(i, out.shape))
        if with_backward and "backward" in probe.checks and out.requires_grad:
            for p in params.values():
                p.grad = None
            backward(out, used[-1])
            if leaf.grad is not None:
                found[prefix + "grad_input"] = leaf.grad
            found.update({f"{prefix}grad/{n}": p.grad for n, p in params.items() if p.grad is not None})
    return found, used
