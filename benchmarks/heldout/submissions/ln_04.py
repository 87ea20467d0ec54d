import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    """Layer normalization over the trailing dimensions."""

    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = [normalized_shape]
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        axes = tuple(x.dim() - 1 - i for i in range(len(self.normalized_shape)))
        mu = x.mean(dim=axes, keepdim=True)
        centered = x - mu
        sigma2 = (centered ** 2).mean(dim=axes, keepdim=True)
        normed = centered / torch.sqrt(sigma2 + self.eps)
        return normed * self.weight + self.bias
