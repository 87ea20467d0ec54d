"""Mutant extra-layers: a correct RMS norm followed by a Linear projection."""
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return self.proj(x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight)
