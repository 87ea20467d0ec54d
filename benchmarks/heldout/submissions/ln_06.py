import torch
from torch import nn


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps: float = 1e-5):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = shape
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        in_dtype = x.dtype
        dims = tuple(range(-len(self.normalized_shape), 0))
        xd = x.double()
        mean = xd.mean(dim=dims, keepdim=True)
        var = (xd - mean).pow(2).mean(dim=dims, keepdim=True)
        y = (xd - mean) / torch.sqrt(var + self.eps)
        y = y * self.weight.double() + self.bias.double()
        return y.to(in_dtype)
