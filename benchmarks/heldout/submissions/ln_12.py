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
        k = len(self.normalized_shape)
        lead = x.shape[: x.dim() - k]
        n = 1
        for s in self.normalized_shape:
            n *= s
        z = x.reshape(-1, n)
        mean = torch.einsum("bn->b", z) / n
        zc = z - mean[:, None]
        var = torch.einsum("bn,bn->b", zc, zc) / n
        zn = zc * torch.rsqrt(var + self.eps)[:, None]
        w = self.weight.reshape(n)
        b = self.bias.reshape(n)
        out = torch.einsum("bn,n->bn", zn, w) + b
        return out.reshape(*lead, *self.normalized_shape)
