"""A custom autograd.Function whose backward drops the variance term and doubles the rest."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class _Norm(torch.autograd.Function):
    """Normalization with a hand-written backward."""

    @staticmethod
    def forward(ctx, x, dims, eps):
        mean = x.mean(dims, keepdim=True)
        rstd = torch.rsqrt(((x - mean) ** 2).mean(dims, keepdim=True) + eps)
        x_hat = (x - mean) * rstd
        ctx.save_for_backward(x_hat, rstd)
        ctx.dims = dims
        return x_hat

    @staticmethod
    def backward(ctx, g):
        x_hat, rstd = ctx.saved_tensors
        dims = ctx.dims
        return (g - g.mean(dims, keepdim=True)) * rstd * 2, None, None


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
        dims = tuple(range(-len(self.normalized_shape), 0))
        return _Norm.apply(x, dims, self.eps) * self.weight + self.bias
