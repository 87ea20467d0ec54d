"""The causal-self-attention task (issue 18) through the real child and judge: ways of writing it right
pass, each style beside its named twin; every mutant is caught by a numeric check (a hidden forward or
backward, not structure or forbidden ops alone) and named by its id; two mistakes at once are both
named. The forbidden routes are tests/hostile/fused_attention_* and multihead_attention_*
(tests/test_hostile.py); the families' vocabulary (heads, seq) is tests/test_families.py's.
"""
from __future__ import annotations

import pytest

from grader.grading.submit import grade_source

TASK = "causal-self-attention"
# One solution with a slot per style; a pair differs in one slot, the others at the first style.
SOLUTION = '''import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.c_attn = nn.Linear(d_model, 3 * d_model)
        self.c_proj = nn.Linear(d_model, d_model)
{buffer}
    def forward(self, x):
        B, T, C = x.shape
        hs = C // self.n_heads
{qkv}
{mask}
{scores}
{fill}
        att = F.softmax(att, dim=-1)
{weigh}
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))
'''
_HEADS = "        q, k, v = (t.view(B, T, self.n_heads, hs).transpose(1, 2) for t in {parts})"
STYLES = {
    "qkv": {
        "split": _HEADS.format(parts="self.c_attn(x).split(C, dim=2)"),
        "chunk": _HEADS.format(parts="self.c_attn(x).chunk(3, dim=-1)"),
        "view": "        q, k, v = self.c_attn(x).view(B, T, 3, self.n_heads, hs).permute(2, 0, 3, 1, 4).unbind(0)",
    },
    "mask": {
        "triu": "        hidden = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)",
        "tril": "        hidden = torch.tril(torch.ones(T, T, device=x.device)) == 0",
        "persistent-buffer": "        hidden = self.bias[:, :, :T, :T] == 0",
        "non-persistent-buffer": "        hidden = ~self.mask[:T, :T]",
    },
    "scores": {
        "matmul": "        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)",
        "einsum": "        att = torch.einsum('bhqd,bhkd->bhqk', q, k) / math.sqrt(hs)",
    },
    "fill": {
        "masked-fill": "        att = att.masked_fill(hidden, float('-inf'))",
        # an additive mask, as nn.Transformer.generate_square_subsequent_mask makes it
        "additive-mask": "        att = att + torch.zeros(T, T, dtype=att.dtype, device=x.device).masked_fill(hidden, float('-inf'))",
    },
}
WEIGH = {"matmul": "        y = att @ v", "einsum": "        y = torch.einsum('bhqk,bhkd->bhqd', att, v)"}
# nanoGPT's buffer (block_size = 64, the prompt's longest T), and a boolean one left out of state_dict
BUFFERS = {"persistent-buffer": '        self.register_buffer("bias", torch.tril(torch.ones(64, 64)).view(1, 1, 64, 64))\n',
           "non-persistent-buffer": '        self.register_buffer("mask", torch.ones(64, 64, dtype=torch.bool).tril(), persistent=False)\n'}
PAIRS = {  # name: (slot, one style, its twin)
    "einsum-vs-matmul": ("scores", "einsum", "matmul"),
    "chunk-vs-split": ("qkv", "chunk", "split"),
    "view-vs-split": ("qkv", "view", "split"),
    "persistent-buffer-vs-triu": ("mask", "persistent-buffer", "triu"),
    "non-persistent-buffer-vs-tril": ("mask", "non-persistent-buffer", "tril"),
    "masked-fill-vs-additive-mask": ("fill", "masked-fill", "additive-mask"),
}


def solution(**chosen: str) -> str:
    style = {slot: chosen.get(slot, next(iter(styles))) for slot, styles in STYLES.items()}
    slots = {slot: STYLES[slot][name] for slot, name in style.items()}
    return SOLUTION.format(buffer=BUFFERS.get(style["mask"], ""), weigh=WEIGH[style["scores"]], **slots)


@pytest.fixture(scope="module")
def grade(sandbox, builtin_tasks):
    """Grade a source once per module: the pairs share their common twin."""
    seen = {}

    def run(source: str, **kwargs):
        key = (source, tuple(sorted(kwargs.items())))
        if key not in seen:
            seen[key] = grade_source(source, "attention.py", builtin_tasks[TASK], sandbox, **kwargs)
        return seen[key]

    return run


@pytest.mark.parametrize("pair", PAIRS)
def test_each_style_passes_beside_its_twin(grade, pair):
    slot, one, twin = PAIRS[pair]
    for style in (one, twin):
        result = grade(solution(**{slot: style}))
        failed = [c.name for c in result.checks if not c.passed]
        assert result.verdict == "pass" and not failed and not result.pitfalls, (style, result.error, failed,
                                                                                   result.pitfalls)


def test_a_mask_buffer_is_no_parameter(grade, builtin_tasks):
    """A registered buffer, persistent or not, is neither an extra parameter nor a submodule holding one;
    the structure check (the child's report of the fresh module) passes for both."""
    for buffer in ("persistent-buffer", "non-persistent-buffer"):
        structure = next(c for c in grade(solution(mask=buffer)).checks if c.name == "structure")
        assert structure.passed, structure.message
    assert {p.name for p in builtin_tasks[TASK].spec.parameters} == {
        "c_attn.weight", "c_attn.bias", "c_proj.weight", "c_proj.bias"}


def test_every_mutant_is_caught_by_a_numeric_check_and_named(grade, builtin_tasks):
    """Not by structure or forbidden ops alone: a hidden forward or backward check fails. Seed 1, so
    that with `bank validate` (the task's seed) and test_mutation's two, four draws are proved."""
    loaded = builtin_tasks[TASK]
    for mutant in loaded.spec.mutants:
        source = mutant.path(loaded.dir).read_text(encoding="utf-8")
        result = grade(source, exclude_mutant=mutant.id, seed=1)
        numeric = [c.name for c in result.checks if c.hidden and c.kind in ("forward", "backward") and not c.passed]
        assert numeric, (mutant.file, [c.name for c in result.checks if not c.passed])
        assert mutant.id in {p.id for p in result.pitfalls}, (mutant.file, [(p.id, p.evidence) for p in result.pitfalls])


def test_two_mistakes_are_both_named_with_their_evidence(grade):
    """sqrt(d_model) and the softmax over the queries, together: the search tries pairs of mistakes."""
    source = solution().replace("math.sqrt(hs)", "math.sqrt(C)").replace("dim=-1", "dim=-2")
    named = {p.id: p.evidence for p in grade(source).pitfalls}
    assert {"wrong-scale", "softmax-dim"} <= set(named), named
    assert "sqrt(d_model)" in named["wrong-scale"] and "dim -2 (the queries)" in named["softmax-dim"]
    assert "wrong-output" not in named

