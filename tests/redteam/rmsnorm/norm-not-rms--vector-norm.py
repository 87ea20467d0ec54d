"""Divides by the L2 norm (eps under the root): forgets the 1/n of the mean."""
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        sumsq = (x * x).sum(dim=-1, keepdim=True)
        return x * torch.rsqrt(sumsq + self.eps) * self.weight
