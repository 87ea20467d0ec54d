"""Mutant wrong-backward (with unbiased-variance): forward divides the variance by n-1, and a
hand-written backward returns grad * weight / std, as if the mean and variance were constants."""
import torch
import torch.nn as nn


class _Norm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        std = torch.sqrt(x.var(dims, keepdim=True, unbiased=True) + eps)
        x_hat = (x - x.mean(dims, keepdim=True)) / std
        ctx.save_for_backward(x_hat, std, weight)
        ctx.dims = dims
        return x_hat * weight + bias

    @staticmethod
    def backward(ctx, grad):
        x_hat, std, weight = ctx.saved_tensors
        lead = tuple(range(grad.ndim - weight.ndim))
        return grad * weight / std, (grad * x_hat).sum(lead), grad.sum(lead), None, None


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.shape))
        self.bias = nn.Parameter(torch.zeros(self.shape))

    def forward(self, x):
        return _Norm.apply(x, self.weight, self.bias, tuple(range(-len(self.shape), 0)), self.eps)
