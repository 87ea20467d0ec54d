"""Mutant wrong-gradient: a hand-written backward whose weight gradient forgets x_hat."""
import torch
import torch.nn as nn


class _Affine(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_hat, weight, bias):
        ctx.save_for_backward(x_hat, weight)
        return x_hat * weight + bias

    @staticmethod
    def backward(ctx, grad):
        x_hat, weight = ctx.saved_tensors
        batch = tuple(range(grad.ndim - weight.ndim))
        return grad * weight, grad.sum(batch), grad.sum(batch)  # the weight's should be (grad * x_hat)


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.shape))
        self.bias = nn.Parameter(torch.zeros(self.shape))

    def forward(self, x):
        dims = tuple(range(-len(self.shape), 0))
        mean = x.mean(dims, keepdim=True)
        var = x.var(dims, keepdim=True, unbiased=False)
        return _Affine.apply((x - mean) / torch.sqrt(var + self.eps), self.weight, self.bias)
