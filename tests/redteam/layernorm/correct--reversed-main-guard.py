"""The main guard written the other way round, with an import only the self-test uses (issue 9)."""
from torch.nn import LayerNorm as TorchLayerNorm
import torch
import torch.nn as nn
import torch.nn.functional as F


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
        dims = tuple(range(x.dim() - len(self.normalized_shape), x.dim()))
        var, mean = torch.var_mean(x, dims, unbiased=False, keepdim=True)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


def _self_test():
    x = torch.randn(2, 3, 5)
    print((LayerNorm(5)(x) - TorchLayerNorm(5)(x)).abs().max())


if "__main__" == __name__:
    _self_test()
