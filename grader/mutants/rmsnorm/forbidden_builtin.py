"""Mutant forbidden-builtin: RMS norm as the first half of torch's fused layer norm of [x, -x]
(the mean of [x, -x] is zero and its variance is mean(x^2): the same numbers, to 2e-16)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        both = F.layer_norm(torch.cat([x, -x], dim=-1), (2 * self.dim,), eps=self.eps)
        return both[..., :self.dim] * self.weight
