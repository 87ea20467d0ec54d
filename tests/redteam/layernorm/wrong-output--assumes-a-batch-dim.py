"""Treats dim 0 as the batch, so an unbatched (C,) input breaks (issue 9)."""
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
        flat = x.reshape(x.shape[0], -1, *self.normalized_shape).flatten(2)
        mean = flat.mean(-1, keepdim=True)
        var = flat.var(-1, keepdim=True, unbiased=False)
        return ((flat - mean) / torch.sqrt(var + self.eps)).reshape(x.shape) * self.weight + self.bias
