"""Behavioural causal self-attention detectors: which wrong attention did the submission compute?

The judge recomputes attention in float64 from each probe's input and loaded c_attn / c_proj under
the known mistakes (the scale, the softmax's dim, the mask's side and place, the order heads are split
and merged in), alone and in pairs, and names the simplest one that reproduces the submission's
outputs on every probe. Outputs right in eval mode and wrong in train mode, with no formula
explaining them, are dropout (or anything else that runs in training only). A forbidden attention
op, found by the shared forbidden-builtin evidence, is named as this task's builtin-attention.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from grader.pitfalls.detectors import forbidden_builtins
from grader.pitfalls.evidence import Evidence, ProbeEvidence
from grader.pitfalls.measure import (
    backward_ok, close, construction, detector, error, fmt, forward_ok, input_grad, kept, nonfinite, out_of, ran,
)

_PARAMS = ("c_attn.weight", "c_attn.bias", "c_proj.weight", "c_proj.bias")
_SCALE_TEXT = {"model": "sqrt(d_model)", "none": "1 (no scaling)", "head-size": "d_head (no square root)"}
_DIM_TEXT = {-2: "dim -2 (the queries)", 1: "dim 1 (the heads)"}
_MASK_TEXT = {"none": "no causal mask", "inverted": "the past masked instead of the future (tril and triu swapped)",
              "flipped": "the past and the token itself masked (== 1 where == 0 was meant)",
              "after-zero": "future weights zeroed after the softmax", "after-inf": "-inf written after the softmax"}
_MASK_ID = {"none": "missing-causal-mask", "inverted": "inverted-causal-mask", "flipped": "inverted-causal-mask",
            "after-zero": "mask-after-softmax", "after-inf": "mask-after-softmax"}
_SPLIT_TEXT = {"no-transpose": "view(B, n_heads, T, d_head) without the transpose",
               "interleaved": "view(B, T, d_head, n_heads), interleaving the heads' features"}
_MERGE_TEXT = {"no-transpose": "(B, n_heads, T, d_head) viewed as (B, T, C) without the transpose",
               "interleaved": "(B, n_heads, T, d_head) permuted to (B, T, d_head, n_heads)"}


@dataclass(frozen=True)
class Variant:
    """One way to compute causal self-attention; the default is the right one."""

    scale: str = "head"  # head: sqrt(d_head) | model: sqrt(d_model) | none | head-size: d_head
    softmax_dim: int = -1  # -1: the keys | -2: the queries | 1: the heads
    # causal | none | inverted: masks j < i | flipped: masks j <= i | after-zero / after-inf: the future
    # written as 0 or -inf after the softmax
    mask: str = "causal"
    split: str = "heads"  # heads: view(B, T, nh, hs).transpose(1, 2) | no-transpose | interleaved
    merge: str = "heads"  # heads: transpose(1, 2).reshape(B, T, C) | no-transpose | interleaved

    def pitfalls(self) -> list[tuple[str, str, "Variant"]]:
        """(pitfall id, what this variant does, the right attention with that mistake alone) for each
        way it departs from the right attention."""
        found = []
        if self.scale != "head":
            found.append(("wrong-scale", f"the scores divided by {_SCALE_TEXT[self.scale]} instead of sqrt(d_head)",
                          Variant(scale=self.scale)))
        if self.softmax_dim != -1:
            found.append(("softmax-dim", f"the softmax over {_DIM_TEXT[self.softmax_dim]} instead of the keys",
                          Variant(softmax_dim=self.softmax_dim)))
        if self.mask != "causal":
            found.append((_MASK_ID[self.mask], _MASK_TEXT[self.mask], Variant(mask=self.mask)))
        if self.split != "heads":
            found.append(("head-order", f"heads split with {_SPLIT_TEXT[self.split]}", Variant(split=self.split)))
        if self.merge != "heads":
            found.append(("head-order", f"heads merged as {_MERGE_TEXT[self.merge]}", Variant(merge=self.merge)))
        return found


_AXES = {"scale": ("head", "model", "none", "head-size"), "softmax_dim": (-1, -2, 1),
         "mask": ("causal", "none", "inverted", "flipped", "after-zero", "after-inf"),
         "split": ("heads", "no-transpose", "interleaved"), "merge": ("heads", "no-transpose", "interleaved")}
# At most two mistakes at once (enough to name a pair), simplest first: the first variant that fits
# names the fewest.
VARIANTS = sorted(
    (v for v in (Variant(*values) for values in itertools.product(*_AXES.values()))
     if sum(getattr(v, axis) != choices[0] for axis, choices in _AXES.items()) <= 2),
    key=lambda v: sum(getattr(v, axis) != choices[0] for axis, choices in _AXES.items()),
)
RIGHT = VARIANTS[0]


def heads_of(ev: Evidence, probe: ProbeEvidence) -> int | None:
    """n_heads of the probe's construction, CausalSelfAttention(d_model, n_heads)."""
    args, kwargs = construction(ev, probe)
    heads = args[1] if len(args) > 1 else kwargs.get("n_heads")
    return heads if isinstance(heads, int) and heads > 0 else None


def compute(probe: ProbeEvidence, heads: int, v: Variant, x: torch.Tensor | None = None) -> torch.Tensor | None:
    """The variant's output in float64 on the probe's input (or on `x`, to differentiate); None where
    the probe has no (B, T, C) input or no c_attn / c_proj values."""
    if not _fits(probe, heads):
        return None
    w = {name: probe.params[name].detach().double() for name in _PARAMS}
    x = probe.x.detach().double() if x is None else x
    B, T, C = x.shape
    hs = C // heads
    q, k, val = (_split(t, heads, v.split) for t in F.linear(x, w["c_attn.weight"], w["c_attn.bias"]).split(C, dim=2))
    scale = {"head": math.sqrt(hs), "model": math.sqrt(C), "none": 1.0, "head-size": float(hs)}[v.scale]
    att = (q @ k.transpose(-2, -1)) / scale  # (B, nh, T, T)
    ones = torch.ones(T, T, dtype=torch.bool)
    future = ones.triu(1)
    hidden = {"causal": future, "inverted": ones.tril(-1), "flipped": ones.tril()}.get(v.mask)
    if hidden is not None:
        att = att.masked_fill(hidden, float("-inf"))
    att = F.softmax(att, dim=v.softmax_dim)
    if v.mask.startswith("after"):
        att = att.masked_fill(future, 0.0 if v.mask == "after-zero" else float("-inf"))
    y = _merge(att @ val, v.merge)
    return F.linear(y, w["c_proj.weight"], w["c_proj.bias"])


def _fits(probe: ProbeEvidence, heads: int) -> bool:
    """A (B, T, C) input with C a multiple of n_heads, and c_attn and c_proj of the reference's shapes."""
    shape = tuple(probe.x.shape)
    if len(shape) != 3 or shape[-1] % heads or not all(name in probe.params for name in _PARAMS):
        return False
    C = shape[-1]
    return tuple(probe.params["c_attn.weight"].shape) == (3 * C, C) and tuple(probe.params["c_proj.weight"].shape) == (C, C)


def _split(t: torch.Tensor, heads: int, how: str) -> torch.Tensor:
    """(B, T, C) -> (B, nh, T, hs), as the variant splits it."""
    B, T, C = t.shape
    if how == "no-transpose":
        return t.reshape(B, heads, T, C // heads)
    if how == "interleaved":
        return t.reshape(B, T, C // heads, heads).permute(0, 3, 1, 2)
    return t.reshape(B, T, heads, C // heads).transpose(1, 2)


def _merge(y: torch.Tensor, how: str) -> torch.Tensor:
    """(B, nh, T, hs) -> (B, T, C), as the variant merges it."""
    B, nh, T, hs = y.shape
    if how == "no-transpose":
        return y.reshape(B, T, nh * hs)
    if how == "interleaved":
        return y.permute(0, 2, 3, 1).reshape(B, T, nh * hs)
    return y.transpose(1, 2).reshape(B, T, nh * hs)


def _searchable(ev: Evidence) -> list[tuple[ProbeEvidence, int]]:
    """Probes with outputs, seeded parameters and a (B, T, C) input, each with its n_heads."""
    chosen = []
    for probe in ran(ev):
        heads = heads_of(ev, probe)
        if heads and probe.spec.params != "init" and not probe.spec.diagnostic and _fits(probe, heads):
            chosen.append((probe, heads))
    return chosen


def explain(probes: list[tuple[ProbeEvidence, int]], memo=None) -> Variant | None:
    """The simplest variant reproducing every probe's output, or None."""
    for v in VARIANTS:
        if all(close(out_of(p), kept(memo, ("attention", p.name, heads, v), lambda: compute(p, heads, v)), p)
               for p, heads in probes):
            return v
    return None


@detector("wrong-scale", "softmax-dim", "mask-after-softmax", "missing-causal-mask", "inverted-causal-mask",
          "head-order", "attention-dropout", "wrong-backward")
def attention_formula(ev: Evidence):
    probes = _searchable(ev)
    if not probes or all(forward_ok(p) and backward_ok(p) for p, _ in probes):
        return
    v = explain(probes, ev.memo)
    if v is None:
        yield from _train_only(probes)
        return
    for pitfall, what, alone in v.pitfalls():
        yield pitfall, _evidence(probes, v, what, alone)
    if v != RIGHT:
        yield from _wrong_backward(probes, v)


def _evidence(probes, v: Variant, what: str, alone: Variant) -> str:
    """Name the probe where this mistake alone is furthest from the reference (a mask mistake is
    invisible at T = 1, whatever the other mistake does there), with both errors."""
    probe, heads = max(probes, key=lambda ph: error(compute(ph[0], ph[1], alone), ph[0].expected["out"]))
    got = out_of(probe)
    off = error(got, probe.expected["out"])
    miss = f"has {nonfinite(got)}" if off == float("inf") else f"is off the reference by {fmt(off)} (relative)"
    B, T, C = probe.x.shape
    return (f"probe {probe.name} (d_model={C}, n_heads={heads}, T={T}): output {miss}, within "
            f"{fmt(error(got, compute(probe, heads, v)))} of attention with {what}")


def _wrong_backward(probes, v: Variant):
    """Forward explained by a wrong attention; gradients not its own are a second mistake."""
    for p, heads in probes:
        got = (p.got or {}).get("grad_input")
        if got is None or "grad_input" not in p.expected:
            continue
        want = input_grad(p, lambda x: compute(p, heads, v, x=x))
        if torch.isfinite(want).all() and not close(got, want, p):
            yield "wrong-backward", (
                f"probe {p.name}: the input gradient is off the gradient of the attention forward computes "
                f"by {fmt(error(got, want))} (relative)")
            return


def _train_only(probes):
    """No formula explains the outputs, yet every eval-mode probe (with T > 1, where attention is
    more than a projection) is right and some train-mode probe is wrong: dropout, or anything else
    that runs in training only."""
    evals = [p for p, _ in probes if p.spec.mode == "eval" and p.x.shape[1] > 1]
    wrong = [p for p, _ in probes if p.spec.mode == "train" and not forward_ok(p)]
    if evals and wrong and all(forward_ok(p) for p in evals):
        p = wrong[0]
        yield "attention-dropout", (
            f"probe {p.name} (train mode): output off the reference by {fmt(error(out_of(p), p.expected['out']))} "
            f"(relative), while every eval-mode probe ({', '.join(e.name for e in evals[:3])}) matches")


@detector("builtin-attention")
def builtin_attention(ev: Evidence):
    """The forbidden-builtin evidence (a name in the source, a call recorded at the dispatcher),
    named as this task's pitfall."""
    for _, text in forbidden_builtins(ev):
        yield "builtin-attention", text
