"""Hostile: the CPU flash-attention kernel itself, reached through torch.ops.aten by a
computed name with the Autograd keys excluded: below autograd and below the composite op, where only
the kernel's own override sees it (the CPU flash kernel's own op where the installed torch has one).
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
_C = torch._C
_KEYS = _C.DispatchKeySet(_C.DispatchKey.AutogradCPU) | _C.DispatchKeySet(_C.DispatchKey.ADInplaceOrView)
# <<< attack


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.c_attn = nn.Linear(d_model, 3 * d_model)
        self.c_proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        hs = C // self.n_heads
        q, k, v = (t.view(B, T, self.n_heads, hs).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        # >>> attack
        with _C._ExcludeDispatchKeyGuard(_KEYS):
            name = "_scaled_dot_product_flash" + "_attention"
            kernel = getattr(torch.ops.aten, name + "_for_cpu", None) or getattr(torch.ops.aten, name)
            y = kernel(q, k, v, 0.0, True)[0]
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))
        # <<< attack
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))
