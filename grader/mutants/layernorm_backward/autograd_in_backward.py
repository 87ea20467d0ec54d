"""Mutant: backward rebuilds forward's graph under enable_grad and asks autograd for the gradients."""
import torch


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        ctx.save_for_backward(x, weight, bias)
        ctx.eps = eps
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + eps) * weight + bias

    @staticmethod
    def backward(ctx, dy):
        x, weight, bias = (t.detach().requires_grad_(True) for t in ctx.saved_tensors)
        with torch.enable_grad():
            mean = x.mean(dim=-1, keepdim=True)
            var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
            y = (x - mean) / torch.sqrt(var + ctx.eps) * weight + bias
            dx, dweight, dbias = torch.autograd.grad((y * dy).sum(), (x, weight, bias))
        return dx, dweight, dbias, None
