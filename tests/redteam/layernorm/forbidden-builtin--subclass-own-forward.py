import torch
import torch.nn as nn


class LayerNorm(nn.LayerNorm):
    """Reuses nn.LayerNorm's constructor (weight, bias, eps) but computes forward by hand."""

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dims, keepdim=True)
        var = x.var(dims, keepdim=True, unbiased=False)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
