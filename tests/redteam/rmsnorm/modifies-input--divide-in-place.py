"""Scales the input in place, x /= rms, after taking the statistics from a copy."""
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        rms = torch.sqrt(x.detach().clone().pow(2).mean(-1, keepdim=True) + self.eps)
        x /= rms
        return x * self.weight
