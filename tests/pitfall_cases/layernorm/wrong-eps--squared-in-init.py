import torch
from torch import nn


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        shape = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
        self.axes = tuple(range(-len(shape), 0))
        self.eps2 = eps ** 2  # "epsilon squared keeps the std positive"
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        c = x - x.mean(self.axes, keepdim=True)
        return c * torch.rsqrt(c.square().mean(self.axes, keepdim=True) + self.eps2) * self.weight + self.bias
