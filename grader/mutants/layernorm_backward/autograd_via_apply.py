"""Mutant: apply overridden with plain autograd ops, so the hand-written backward never runs."""
import torch


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, dy):
        raise NotImplementedError

    @staticmethod
    def apply(x, weight, bias, eps):
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + eps) * weight + bias
