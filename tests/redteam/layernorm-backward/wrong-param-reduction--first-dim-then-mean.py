# Summed over the batch dim, then averaged over the sequence dim of a (B, T, C) input.
import torch


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean(-1, keepdim=True)
        rstd = torch.rsqrt(((x - mean) ** 2).mean(-1, keepdim=True) + eps)
        xhat = (x - mean) * rstd
        ctx.save_for_backward(xhat, weight, rstd)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_out):
        xhat, weight, rstd = ctx.saved_tensors
        g = grad_out * weight
        dx = rstd * (g - g.mean(-1, keepdim=True) - xhat * (g * xhat).mean(-1, keepdim=True))
        dweight, dbias = grad_out * xhat, grad_out
        if dweight.dim() > 1:
            dweight, dbias = dweight.sum(0), dbias.sum(0)
        while dweight.dim() > 1:
            dweight, dbias = dweight.mean(0), dbias.mean(0)
        return dx, dweight, dbias, None
