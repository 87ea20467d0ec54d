import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.g = nn.Parameter(torch.ones(self.ns))
        self.b = nn.Parameter(torch.zeros(self.ns))

    def forward(self, x):
        d = tuple(range(x.ndim - len(self.ns), x.ndim))
        m = x.mean(d, keepdim=True)
        v = (x - m).square().mean(d, keepdim=True)
        return (x - m) / (v + self.eps) ** 0.5 * self.g + self.b
