"""Mutant modifies-input: scales the input in place (x.mul_)."""
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        ms = x.pow(2).mean(dim=-1, keepdim=True)
        x.mul_(torch.rsqrt(ms + self.eps))
        return x * self.weight
