# Forward divides by n - 1, and backward is the exact derivative of that forward: the outputs are
# wrong, while gradcheck (backward against the submission's own forward) passes.
import torch


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        n = x.shape[-1]
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).sum(-1, keepdim=True) / (n - 1)
        rstd = 1.0 / torch.sqrt(var + eps)
        xhat = (x - mean) * rstd
        ctx.save_for_backward(xhat, weight, rstd)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_out):
        xhat, weight, rstd = ctx.saved_tensors
        n = xhat.shape[-1]
        g = grad_out * weight
        dx = rstd * (g - g.mean(-1, keepdim=True) - xhat * (g * xhat).sum(-1, keepdim=True) / (n - 1))
        return dx, (grad_out * xhat).reshape(-1, n).sum(0), grad_out.reshape(-1, n).sum(0), None
