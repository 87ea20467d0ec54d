"""Mutant subtracts-mean: centres each row first, a layer norm without its bias."""
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        centred = x - x.mean(dim=-1, keepdim=True)
        ms = centred.pow(2).mean(dim=-1, keepdim=True)
        return centred / torch.sqrt(ms + self.eps) * self.weight
