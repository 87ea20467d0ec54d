"""Mutant: the variance term's sign flipped: no known mistake explains the input gradient."""
import torch


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased: divide by n, as nn.LayerNorm
        rstd = 1.0 / torch.sqrt(var + eps)
        xhat = (x - mean) * rstd  # (..., C)
        ctx.save_for_backward(xhat, weight, rstd)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, dy):
        xhat, weight, rstd = ctx.saved_tensors
        n = xhat.shape[-1]
        dxhat = dy * weight
        dx = rstd * (dxhat - dxhat.mean(dim=-1, keepdim=True) + xhat * (dxhat * xhat).mean(dim=-1, keepdim=True))
        dweight = (dy * xhat).reshape(-1, n).sum(dim=0)  # (C,): every row shares weight and bias
        dbias = dy.reshape(-1, n).sum(dim=0)
        return dx, dweight, dbias, None
