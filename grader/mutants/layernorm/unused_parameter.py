"""Mutant unused-parameter: the bias is created but never added to the output."""
import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.shape))
        self.bias = nn.Parameter(torch.zeros(self.shape))

    def forward(self, x):
        dims = tuple(range(-len(self.shape), 0))
        centred = x - x.mean(dims, keepdim=True)
        var = centred.pow(2).mean(dims, keepdim=True)
        return centred * torch.rsqrt(var + self.eps) * self.weight
