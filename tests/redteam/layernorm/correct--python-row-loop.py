import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    """Beginner style: normalize one row at a time in a Python loop."""

    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = [normalized_shape]
        self.normalized_shape = list(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        k = len(self.normalized_shape)
        rows = x.reshape(-1, *x.shape[x.dim() - k:])
        outs = []
        for row in rows:
            n = row.numel()
            mean = row.sum() / n
            var = ((row - mean) ** 2).sum() / n
            outs.append((row - mean) / (var + self.eps) ** 0.5)
        return torch.stack(outs).reshape(x.shape) * self.weight + self.bias
