"""Hostile: torch's own RMSNorm module, its name computed so no static scan sees it, held without
parameters of its own (elementwise_affine=False) beside a weight that passes the structure check.
nn.RMSNorm reaches aten.rms_norm, recorded at the composite level.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        # >>> attack
        self.fused = getattr(nn, "RMS" + "Norm")(dim, eps=eps, elementwise_affine=False)
        # <<< attack

    def forward(self, x):
        # >>> attack
        return self.fused(x) * self.weight
        # <<< attack
        return x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight
