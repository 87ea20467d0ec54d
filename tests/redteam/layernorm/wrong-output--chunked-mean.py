"""Statistics in blocks of 256, averaged per block: right when n is a multiple of 256 or below it,
wrong for n = 300 (issue 9: sizes above 256, not a power of two)."""
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
        shape = x.shape
        flat = x.reshape(*shape[: x.dim() - len(self.normalized_shape)], -1)
        blocks = flat.split(256, dim=-1)
        mean = torch.stack([b.mean(-1) for b in blocks], -1).mean(-1, keepdim=True)
        var = torch.stack([((b - mean) ** 2).mean(-1) for b in blocks], -1).mean(-1, keepdim=True)
        y = ((flat - mean) / torch.sqrt(var + self.eps)).reshape(shape)
        return y * self.weight + self.bias
