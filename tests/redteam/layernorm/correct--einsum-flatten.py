import math

import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    """Flattens the normalized dims into one and uses einsum for the affine part."""

    def __init__(self, normalized_shape, eps: float = 1e-5) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.shape = shape
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = math.prod(self.shape)
        lead = x.shape[: x.dim() - len(self.shape)]
        flat = x.reshape(*lead, n)
        mean = torch.einsum("...n->...", flat) / n
        centred = flat - mean.unsqueeze(-1)
        var = torch.einsum("...n,...n->...", centred, centred) / n
        y = centred / torch.sqrt(var + self.eps).unsqueeze(-1)
        y = torch.einsum("...n,n->...n", y, self.weight.reshape(n)) + self.bias.reshape(n)
        return y.reshape(x.shape)
