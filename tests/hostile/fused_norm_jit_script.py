"""Hostile: A fused layer norm inside a TorchScript function (the TorchScript interpreter).
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
@torch.jit.script
def _scripted(x: torch.Tensor, shape: list[int], weight: torch.Tensor, bias: torch.Tensor, eps: float):
    return torch.layer_norm(x, shape, weight, bias, eps)
# <<< attack


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
        # >>> attack
        return _scripted(x, list(self.normalized_shape), self.weight, self.bias, float(self.eps))
        # <<< attack
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
