"""E[x^2] - E[x]^2, but computed in float64 so the cancellation stays harmless."""
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
        dims = tuple(range(x.dim() - len(self.normalized_shape), x.dim()))
        x64 = x.double()
        mean = x64.mean(dim=dims, keepdim=True)
        var = x64.pow(2).mean(dim=dims, keepdim=True) - mean ** 2
        y = (x64 - mean) / torch.sqrt(var + self.eps)
        return (y * self.weight.double() + self.bias.double()).to(x.dtype)
