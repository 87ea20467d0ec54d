"""Hostile: nn.MultiheadAttention, reached by a computed name and built in forward (so it is no
submodule), driven with the task's own c_attn and c_proj: without attention weights it calls
scaled_dot_product_attention, whose kernel records the call.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.c_attn = nn.Linear(d_model, 3 * d_model)
        self.c_proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        hs = C // self.n_heads
        # >>> attack
        mha = getattr(nn, "Multihead" + "Attention")(C, self.n_heads, batch_first=True)
        mha.in_proj_weight, mha.in_proj_bias = self.c_attn.weight, self.c_attn.bias
        mha.out_proj.weight, mha.out_proj.bias = self.c_proj.weight, self.c_proj.bias
        future = torch.ones(T, T, dtype=torch.bool).triu(1)
        return mha(x, x, x, attn_mask=future, need_weights=False)[0]
        # <<< attack
        q, k, v = (t.view(B, T, self.n_heads, hs).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))
