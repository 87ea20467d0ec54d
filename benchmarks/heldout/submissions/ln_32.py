import math

import torch
import torch.nn as nn


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
        k = len(self.normalized_shape)
        dims = tuple(range(x.dim() - k, x.dim()))
        n = math.prod(x.shape[x.dim() - k:])
        mean = x.sum(dim=dims, keepdim=True) / n
        xc = x - mean
        var = (xc * xc).sum(dim=dims, keepdim=True) / n
        return xc / torch.sqrt(var + self.eps) * self.weight + self.bias
