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
        nd = len(self.normalized_shape)
        red = tuple(range(x.ndim - nd, x.ndim))
        mean = torch.mean(x, dim=red)
        var = torch.var(x, dim=red, unbiased=False)
        stat_shape = mean.shape + (1,) * nd
        mean = mean.reshape(stat_shape)
        inv = (var + self.eps).rsqrt().reshape(stat_shape)
        return torch.sub(x, mean).mul(inv).mul(self.weight).add(self.bias)
