"""Hostile: RMS norm as the first half of a fused layer norm of [x, -x] (the mean is zero and the
variance is mean(x^2): equal to 2e-16), by a computed name. Forbidding RMS norm alone would let it
through; every fused norm is forbidden, and the layer norm is recorded at the dispatcher.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
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
        # >>> attack
        both = getattr(F, "layer" + "_norm")(torch.cat([x, -x], dim=-1), (2 * self.dim,), eps=self.eps)
        return both[..., :self.dim] * self.weight
        # <<< attack
        return x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight
