from typing import List

import torch
import torch.nn as nn


@torch.jit.script
def normalize(x: torch.Tensor, dims: List[int], eps: float) -> torch.Tensor:
    mean = x.mean(dims, keepdim=True)
    var = (x - mean).pow(2).mean(dims, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


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
        dims = [x.dim() - 1 - i for i in range(len(self.normalized_shape))]
        return normalize(x, dims, self.eps) * self.weight + self.bias
