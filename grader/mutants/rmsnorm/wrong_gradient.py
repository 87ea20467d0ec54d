"""Mutant wrong-gradient: a hand-written backward whose weight gradient forgets the normalized x."""
import torch
import torch.nn as nn


class _Gain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_hat, weight):
        ctx.save_for_backward(x_hat, weight)
        return x_hat * weight

    @staticmethod
    def backward(ctx, grad):
        x_hat, weight = ctx.saved_tensors
        rows = tuple(range(grad.ndim - 1))
        return grad * weight, grad.sum(rows)  # the weight's should be (grad * x_hat).sum(rows)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return _Gain.apply(x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps), self.weight)
