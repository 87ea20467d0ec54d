import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    """Reduces without keepdim, then restores the dims with view."""

    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        k = len(self.normalized_shape)
        dims = list(range(x.dim() - k, x.dim()))
        mean = torch.mean(x, dim=dims)
        var = torch.var(x, dim=dims, unbiased=False)
        stat_shape = mean.shape + (1,) * k
        mean = mean.view(stat_shape)
        std = torch.sqrt(var.view(stat_shape) + self.eps)
        return self.weight * ((x - mean) / std) + self.bias
