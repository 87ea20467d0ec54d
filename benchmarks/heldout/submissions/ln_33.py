import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    block = 256

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
        flat = x.flatten(start_dim=x.dim() - k)
        chunks = flat.split(self.block, dim=-1)
        mean = torch.stack([c.mean(-1) for c in chunks], dim=-1).mean(-1, keepdim=True)
        var = torch.stack([((c - mean) ** 2).mean(-1) for c in chunks], dim=-1).mean(-1, keepdim=True)
        y = (flat - mean) / torch.sqrt(var + self.eps)
        return y.reshape(x.shape) * self.weight + self.bias
