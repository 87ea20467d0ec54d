import torch
import torch.nn as nn


class _LayerNormFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        mean = x.mean(dim=dims, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(dim=dims, keepdim=True)
        rstd = torch.rsqrt(var + eps)
        xhat = xc * rstd
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.dims = dims
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_out):
        xhat, rstd, weight = ctx.saved_tensors
        dims = ctx.dims
        batch_dims = tuple(range(grad_out.dim() - len(dims)))
        grad_x = grad_weight = grad_bias = None

        if ctx.needs_input_grad[1]:
            gw = grad_out * xhat
            grad_weight = gw.sum(dim=batch_dims) if batch_dims else gw
        if ctx.needs_input_grad[2]:
            grad_bias = grad_out.sum(dim=batch_dims) if batch_dims else grad_out.clone()
        if ctx.needs_input_grad[0]:
            g = grad_out * weight
            g_mean = g.mean(dim=dims, keepdim=True)
            gx_mean = (g * xhat).mean(dim=dims, keepdim=True)
            grad_x = rstd * (g - g_mean - xhat * gx_mean)
        return grad_x, grad_weight, grad_bias, None, None


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = torch.Size(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        return _LayerNormFn.apply(x, self.weight, self.bias, dims, self.eps)
