"""Mutant wrong-backward (with eps-outside-sqrt): forward adds eps to the RMS, and a hand-written
backward returns grad * weight / (rms + eps), as if the RMS were a constant."""
import torch
import torch.nn as nn


class _Norm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, eps):
        scale = x.pow(2).mean(dim=-1, keepdim=True).sqrt() + eps
        x_hat = x / scale
        ctx.save_for_backward(x_hat, scale, weight)
        return x_hat * weight

    @staticmethod
    def backward(ctx, grad):
        x_hat, scale, weight = ctx.saved_tensors
        rows = tuple(range(grad.ndim - 1))
        return grad * weight / scale, (grad * x_hat).sum(rows), None


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return _Norm.apply(x, self.weight, self.eps)
