import torch
import torch.nn as nn


class _LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        mean = x.mean(dim=dims, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(dim=dims, keepdim=True)
        rstd = 1.0 / torch.sqrt(var + eps)
        x_hat = xc * rstd
        ctx.save_for_backward(x_hat, rstd, weight)
        ctx.dims = dims
        return x_hat * weight + bias

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, rstd, weight = ctx.saved_tensors
        dims = ctx.dims
        n_batch = grad_out.dim() - len(dims)

        grad_w = grad_out * x_hat
        grad_b = grad_out
        if n_batch > 0:
            grad_w = grad_w.sum(dim=tuple(range(n_batch)))
            grad_b = grad_b.sum(dim=tuple(range(n_batch)))

        g = grad_out * weight
        grad_x = rstd * (g - g.mean(dim=dims, keepdim=True))
        return grad_x, grad_w, grad_b, None, None


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        return _LayerNormFunction.apply(x, self.weight, self.bias, dims, self.eps)
