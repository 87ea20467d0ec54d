import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        numel = 1
        for d in self.normalized_shape:
            numel *= d
        self.numel = numel
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        orig_shape = x.shape
        x2 = x.view(-1, self.numel)
        mean = x2.mean(dim=-1, keepdim=True)
        var = ((x2 - mean) ** 2).mean(dim=-1, keepdim=True)
        y = (x2 - mean) / torch.sqrt(var + self.eps)
        return y.view(orig_shape) * self.weight + self.bias
