"""Flattens the batch with .view, which refuses a transposed (B, T, C) input (issue 9)."""
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

    def forward(self, x):
        n = 1
        for d in self.normalized_shape:
            n *= d
        flat = x.view(-1, n)
        mean = flat.mean(-1, keepdim=True)
        var = flat.var(-1, keepdim=True, unbiased=False)
        return ((flat - mean) / torch.sqrt(var + self.eps)).view(x.shape) * self.weight + self.bias
