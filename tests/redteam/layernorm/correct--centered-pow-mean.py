import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super(LayerNorm, self).__init__()
        if type(normalized_shape) == int:
            normalized_shape = [normalized_shape]
        self.normalized_shape = list(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        axes = tuple(range(-len(self.normalized_shape), 0))
        mu = x.mean(axes, keepdim=True)
        xc = x - mu
        var = xc.pow(2).mean(axes, keepdim=True)
        return self.weight * (xc * torch.rsqrt(var + self.eps)) + self.bias
