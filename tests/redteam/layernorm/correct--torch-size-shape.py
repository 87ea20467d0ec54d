import numbers

import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    """normalized_shape kept as a torch.Size, as nn.LayerNorm does."""

    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = torch.Size(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, input):
        start = input.dim() - len(self.normalized_shape)
        flat = input.flatten(start)  # (..., n)
        mean = flat.mean(-1, keepdim=True)
        var = flat.var(-1, keepdim=True, correction=0)
        y = ((flat - mean) / torch.sqrt(var + self.eps)).view(input.shape)
        return y * self.weight + self.bias
