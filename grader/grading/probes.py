"""Deterministic probe data: inputs, parameter values and upstream gradients.

Everything is a pure function of (seed, probe name, what, shape, dtype), so the child makes the same
values the judge regenerates later: nothing expected is ever sent to the child, and nothing the child
sends back is trusted as an input. Values are drawn in float64 and then cast, so the float64 truth
sees exactly the numbers the submission saw.
"""
from __future__ import annotations

import hashlib
import math
import re

import torch

# x * 1e-3 gives a row variance of 1e-6, below the default eps (1e-5): where eps sits (inside or
# outside the square root, or missing) changes the output by O(1) here and by ~4e-5 on randn rows.
SMALL_VARIANCE_SCALE = 1e-3
# x + 1e4: E[x^2] - E[x]^2 cancels ~8 digits in float32 and gives NaN or garbage, while a two-pass
# variance stays within ~5e-3 (NUMERICS.md).
OFFSET = 1e4
# Constant rows of small integers have an exact mean, so x - mean is exactly 0: without eps the
# output is 0/0 = NaN; the values stay small so float32 represents them exactly.
CONSTANT_INT_RANGE = (-3, 4)
# Strictly positive inputs (a residual block's diagnostics: relu(x) == x there).
POSITIVE_LOW = 0.1
# Norm weights 1 + 0.5 N(0,1) and biases 0.5 N(0,1): far enough from 1 and 0 that a submission
# ignoring or swapping them fails, close enough that outputs keep the scale of a real model.
NORM_WEIGHT_SPREAD = 0.5
BIAS_SPREAD = 0.5
# A task's dtype names (grader.bank.taskspec.Dtype) as torch dtypes, for the child and the judge alike.
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _generator(seed: int, *parts: object) -> torch.Generator:
    """A CPU generator keyed by the seed and the parts (probe name, role, parameter name)."""
    key = "\x1f".join([str(seed), *map(str, parts)]).encode()
    digest = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")
    return torch.Generator().manual_seed(digest & (2**63 - 1))


def make_input(seed: int, probe, role: str = "input") -> torch.Tensor:
    """The probe's input values (a contiguous leaf, no grad) in its dtype. `probe` is a
    grader.bank.taskspec.Probe; `role` "first" gives the other input a repeated call sees first. An
    expanded probe's rows along dim 0 are equal: present() then shows them as one row expanded."""
    x = _values(seed, probe, role)
    if probe.layout == "expanded":
        x = x[:1].expand(x.shape).contiguous()
    return x


def present(leaf: torch.Tensor, layout: str) -> torch.Tensor:
    """The tensor forward receives: a differentiable non-leaf copy of `leaf` with the probe's
    strides (an in-place write then succeeds and shows, instead of raising). Transposed: the last
    two dims' strides swapped; sliced: every other element of a row twice as long (stride 2);
    expanded: row 0 expanded along dim 0 (stride 0), so dL/dleaf gathers in row 0."""
    if layout == "transposed":
        return leaf.transpose(-1, -2).contiguous().transpose(-1, -2)
    if layout == "sliced":
        return torch.stack((leaf, torch.zeros_like(leaf)), dim=-1).flatten(-2)[..., ::2]
    if layout == "expanded":
        return leaf[:1].clone().expand(leaf.shape)
    return leaf.clone()


def _values(seed: int, probe, role: str) -> torch.Tensor:
    spec = probe.input
    dtype = DTYPES[spec.dtype]
    if spec.kind == "values":
        return torch.tensor(spec.values, dtype=torch.float64).to(dtype)
    shape = tuple(spec.shape)
    gen = _generator(seed, probe.name, role)
    if spec.kind == "constant-int":
        low, high = CONSTANT_INT_RANGE
        rows = torch.randint(low, high, (*shape[:-1], 1), generator=gen, dtype=torch.float64)
        return rows.expand(shape).contiguous().to(dtype)
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    if spec.kind == "small-variance":
        x = x * SMALL_VARIANCE_SCALE
    elif spec.kind == "offset":
        x = x + OFFSET
    elif spec.kind == "positive":
        x = x.abs() + POSITIVE_LOW
    return x.to(dtype)


# A probe with steps (grader.bank.taskspec.Probe.steps) runs one module through a call sequence. Each
# step has its own input and upstream gradient; the last step's are the probe's own, so its tensors
# keep the plain keys ("out", "grad/weight", "buffer/running_mean") and an earlier step's carry its
# prefix ("step0/out"): everything that reads the plain keys sees the last call, as for any probe.
_STEP = re.compile(r"^step(\d+)/")


def step_prefix(i: int, n: int) -> str:
    return "" if i == n - 1 else f"step{i}/"


def step_input(seed: int, probe, i: int) -> torch.Tensor:
    """Step i's input (make_input's contiguous leaf); the last step's is the probe's own."""
    return make_input(seed, probe, "input" if i == len(probe.steps) - 1 else f"step{i}")


def step_upstream(seed: int, probe, i: int, shape, dtype: torch.dtype) -> torch.Tensor:
    last = i == len(probe.steps) - 1
    return upstream_grad(seed, probe.name if last else f"{probe.name}/step{i}", shape, dtype)


def key_base(key: str) -> str:
    """The key without its step's prefix: "step0/grad/weight" -> "grad/weight"."""
    return _STEP.sub("", key, count=1)


def key_kind(key: str) -> str:
    """What a tensor key of a probe holds: "out", "grad" (grad_input, grad/<name>), "buffer"
    (buffer/<name>) or "other" (input_after), whichever step it belongs to."""
    base = key_base(key)
    if base == "out":
        return "out"
    if base == "grad_input" or base.startswith("grad/"):
        return "grad"
    return "buffer" if base.startswith("buffer/") else "other"


def key_step(key: str) -> int | None:
    """The step an earlier step's key belongs to (None: the probe's own, last call)."""
    found = _STEP.match(key)
    return int(found.group(1)) if found else None


def upstream_grad(seed: int, probe_name: str, shape, dtype: torch.dtype) -> torch.Tensor:
    """A random upstream gradient: unlike `.sum()` (all ones), it weighs every output differently,
    so a gradient that is right only on average still shows."""
    gen = _generator(seed, probe_name, "upstream")
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float64).to(dtype)


def backward(out: torch.Tensor, upstream: torch.Tensor) -> None:
    """out.backward(upstream), as the gradient of the scalar sum(out * upstream): the same gradients
    exactly (d sum / d out = upstream, times 1), but torch's autograd only imports sympy (~0.4 s per
    fresh process) when it is handed an explicit gradient tensor."""
    (out * upstream.to(out.dtype)).sum().backward()


def param_values(seed: int, probe_name: str, ref_name: str, shape, dtype: torch.dtype) -> torch.Tensor:
    """Seeded, non-trivial values for the reference parameter `ref_name` (weight != 1, bias != 0).
    The kind of value follows the name and rank: biases 0.5 N(0,1); 1-D weights (norm gains)
    1 + 0.5 N(0,1); 2-D weights as nn.Linear draws them, U(+-1/sqrt(fan_in))."""
    shape = tuple(shape)
    gen = _generator(seed, probe_name, "param", ref_name, shape)
    leaf = ref_name.rsplit(".", 1)[-1]
    if leaf != "bias" and len(shape) >= 2:
        # One uniform draw in place: a float64 randn beside it cost ~80 ns an element (~20 ms for a
        # 512x512 weight, in the child and again in the judge), and each temporary of that size
        # costs a fresh child 512 page faults.
        bound = 1 / math.sqrt(math.prod(shape[1:]))
        values = torch.empty(shape, dtype=torch.float64).uniform_(-bound, bound, generator=gen)
    else:
        noise = torch.randn(shape, generator=gen, dtype=torch.float64)
        values = BIAS_SPREAD * noise if leaf == "bias" else 1 + NORM_WEIGHT_SPREAD * noise
    return values.to(dtype)


def probe_params(seed: int, probe, shapes: dict[str, tuple], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Values for every reference parameter of a `random` or `zero:<regex>` probe (not `init`)."""
    values = {name: param_values(seed, probe.name, name, shape, dtype) for name, shape in shapes.items()}
    if probe.params.startswith("zero:"):
        pattern = re.compile(probe.params[5:])
        for name in values:
            if pattern.search(name):
                values[name] = torch.zeros_like(values[name])
    return values
