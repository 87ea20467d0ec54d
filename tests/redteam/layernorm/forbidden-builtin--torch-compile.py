"""A fused layer norm by a computed name inside a torch.compile'd forward (graded eagerly:
TORCH_COMPILE_DISABLE): the dispatcher's record names it, the source scan cannot."""
import torch
from torch import nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(*self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(*self.normalized_shape))

    @torch.compile
    def forward(self, x):
        return getattr(F, "layer" + "_norm")(x, self.normalized_shape, self.weight, self.bias, self.eps)
