"""Writes into x when no gradient is needed, "to save memory" (issue 9: inputs without grad)."""
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
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dims, keepdim=True)
        var = x.var(dims, keepdim=True, unbiased=False)
        if not x.requires_grad:
            x.sub_(mean).div_(torch.sqrt(var + self.eps))
            return x * self.weight + self.bias
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
