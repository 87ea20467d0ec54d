"""Tensor comparison against a float64 truth, with named tolerances and pytest.approx-style detail.

An error is measured relative to the scale of the expected tensor (its largest magnitude), not per
element: gradients scale with 1/sigma, so on small-variance or constant rows even torch's own
LayerNorm is 1e-4..6e-4 off in absolute terms while exact to ~1e-6 of the gradient's scale
(NUMERICS.md). Outputs and each gradient are compared separately, each against its own scale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from grader.results import Mismatch

# float32, ordinary inputs: correct code is within ~2e-6 absolute (~4e-7 of the output scale) even at
# n = 4096, while unbiased variance is 1.3e-3 off and eps outside the sqrt 4e-5: 1e-5 separates them.
FLOAT32_TIGHT = 1e-5
# float32, rows offset by 1e4: torch's own LayerNorm is ~3e-3 off in outputs and ~5e-3 in gradients
# against the float64 truth, so only a loose bound is fair; it still catches the one-pass variance
# (NaN or O(1) errors). The other probes do the fine separating.
FLOAT32_OFFSET = 1e-2
# float64: correct code agrees with the float64 reference to ~1e-15 of the scale; 1e-9 leaves room
# for a different summation order while catching anything computed in float32 inside (~1e-7).
FLOAT64_TIGHT = 1e-9
# float64 with an offset of 1e4: a correct two-pass variance is still ~1e-12 off; a one-pass one in
# float64 loses ~8 of its 16 digits (~1e-8), which is numerically poor but not wrong at this size.
FLOAT64_OFFSET = 1e-7

# float32, constant rows (x == mean exactly, so 1/sqrt(eps) ~ 316 multiplies every rounding error):
# the folded affine x*(w*rstd) + (b - mean*w*rstd), which torch's own CPU kernel computes, is ~1e-4
# of the output's scale off there; a missing eps is NaN and eps outside the sqrt O(1) in the
# gradient, so 1e-3 still catches what these rows are for (docs/DESIGN.md, Decisions).
FLOAT32_CONSTANT = 1e-3

TOLERANCES = {
    ("tight", "float32"): FLOAT32_TIGHT,
    ("offset", "float32"): FLOAT32_OFFSET,
    ("constant", "float32"): FLOAT32_CONSTANT,
    ("tight", "float64"): FLOAT64_TIGHT,
    ("offset", "float64"): FLOAT64_OFFSET,
    ("constant", "float64"): FLOAT64_TIGHT,  # the folded affine is ~3e-13 off in float64
}
# The scale never drops below this, so an all-zero expected tensor is compared absolutely.
MIN_SCALE = 1e-6
# Worst elements listed for a failed public check (pytest.approx lists every mismatch; a tensor
# can have thousands).
WORST_SHOWN = 5


def tolerance(name: str, dtype: str) -> float:
    return TOLERANCES[(name, dtype)]


@dataclass
class Comparison:
    passed: bool
    max_abs_err: float | None  # None when there was nothing to compare (shape mismatch)
    max_rel_err: float | None  # max abs error / the expected tensor's scale
    mismatched: int = 0
    total: int = 0
    shape: list[int] | None = None  # the expected tensor's
    worst: list[Mismatch] = field(default_factory=list)
    message: str = ""


def compare(got: torch.Tensor, expected: torch.Tensor, rel_tol: float, *, worst: bool = True) -> Comparison:
    """Compare `got` (any float dtype) with the float64 `expected`. Non-finite values where the truth
    is finite are infinitely wrong (max_abs_err is then inf). worst=False leaves `worst` empty: a
    hidden probe's check never shows its elements, and finding them (a top-k, a gather and two
    lists) was a third of a failing comparison's cost."""
    total = expected.numel()
    if tuple(got.shape) != tuple(expected.shape):
        return Comparison(
            False, None, None, total=total, shape=list(expected.shape),
            message=f"shape {list(got.shape)}, expected {list(expected.shape)}",
        )
    got64 = got.detach().to(torch.float64)
    scale = max(expected.abs().max().item() if total else 0.0, MIN_SCALE)
    err = (got64 - expected).abs()
    max_abs = err.max().item() if total else 0.0
    if math.isfinite(max_abs) and max_abs <= rel_tol * scale:
        # A finite maximum means every element of both tensors is finite, so the masks below would
        # change nothing and mark nothing: a passing grade makes ~50 comparisons, skip their work.
        return Comparison(True, max_abs, max_abs / scale, total=total, shape=list(expected.shape))
    # Every NaN error counts as infinite: a non-finite value where the truth is finite gives NaN
    # (got NaN) or inf (got inf) here already, so this one pass is the whole rule.
    err = torch.nan_to_num(err, nan=math.inf, posinf=math.inf)
    bad = err > rel_tol * scale
    max_abs = err.max().item() if total else 0.0
    mismatched = int(bad.sum())
    return Comparison(
        passed=mismatched == 0,
        max_abs_err=max_abs,
        max_rel_err=max_abs / scale,
        mismatched=mismatched,
        total=total,
        shape=list(expected.shape),
        worst=_worst(got64, expected, err, bad, mismatched) if worst else [],
    )


def _worst(got: torch.Tensor, expected: torch.Tensor, err: torch.Tensor, bad: torch.Tensor,
           mismatched: int) -> list[Mismatch]:
    k = min(mismatched, WORST_SHOWN)
    if k == 0:
        return []
    # Where every element is off (a failing gradient, usually), the mask would change nothing.
    flat = (err if mismatched == err.numel() else torch.where(bad, err, -1.0)).flatten()
    order = torch.topk(flat, k).indices.sort().values  # the k worst, listed in index order as pytest does
    shape = tuple(expected.shape)
    return [
        Mismatch(index=list(_unravel(i, shape)), got=finite(g), expected=finite(e))
        for i, g, e in zip(order.tolist(), got.flatten()[order].tolist(), expected.flatten()[order].tolist())
    ]


def _unravel(i: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for dim in reversed(shape):
        index.append(i % dim)
        i //= dim
    return tuple(reversed(index))


def finite(value: float | None) -> float | None:
    """JSON has no NaN or inf: they travel as None and are shown as 'nan' (or, for an error, the
    message says elements are off)."""
    return value if value is not None and math.isfinite(value) else None
