"""Normalizes right, then runs the result through a Linear layer."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))
        self.mix = nn.Linear(self.normalized_shape[-1], self.normalized_shape[-1])

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        y = (x - x.mean(dims, keepdim=True)) / torch.sqrt(x.var(dims, keepdim=True, unbiased=False) + self.eps)
        return self.mix(y * self.weight + self.bias)
