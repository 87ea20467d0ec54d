"""Mutant: forward calls torch's fused layer norm; backward is written by hand."""
import torch
import torch.nn.functional as F


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean(dim=-1, keepdim=True)
        rstd = 1.0 / torch.sqrt(((x - mean) ** 2).mean(dim=-1, keepdim=True) + eps)
        ctx.save_for_backward((x - mean) * rstd, weight, rstd)
        return F.layer_norm(x, x.shape[-1:], weight, bias, eps)

    @staticmethod
    def backward(ctx, dy):
        xhat, weight, rstd = ctx.saved_tensors
        n = xhat.shape[-1]
        dxhat = dy * weight
        dx = rstd * (dxhat - dxhat.mean(dim=-1, keepdim=True) - xhat * (dxhat * xhat).mean(dim=-1, keepdim=True))
        return dx, (dy * xhat).reshape(-1, n).sum(dim=0), dy.reshape(-1, n).sum(dim=0), None
