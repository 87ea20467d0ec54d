"""Flattens the normalized dims, normalizes the last one, reshapes back."""
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
        lead = x.shape[: x.dim() - len(self.normalized_shape)]
        flat = x.reshape(*lead, -1)
        mean = flat.mean(-1, keepdim=True)
        var = (flat - mean).pow(2).mean(-1, keepdim=True)
        y = ((flat - mean) / (var + self.eps) ** 0.5).reshape(x.shape)
        return y * self.weight + self.bias
