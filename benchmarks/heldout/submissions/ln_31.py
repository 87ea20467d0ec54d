import torch
import torch.nn as nn


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, normalized_ndim, eps):
        dims = tuple(range(-normalized_ndim, 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        rstd = torch.rsqrt(var + eps)
        x_hat = (x - mean) * rstd
        ctx.save_for_backward(x_hat, rstd, weight)
        ctx.normalized_ndim = normalized_ndim
        return x_hat * weight + bias

    @staticmethod
    def backward(ctx, grad_output):
        x_hat, rstd, weight = ctx.saved_tensors
        k = ctx.normalized_ndim
        lead = grad_output.dim() - k

        grad_weight = (grad_output * x_hat).reshape(-1, *weight.shape).sum(0)
        grad_bias = grad_output.reshape(-1, *weight.shape).sum(0)

        dxhat = grad_output * weight
        grad_input = rstd * (
            dxhat
            - dxhat.mean(dim=-1, keepdim=True)
            - x_hat * (dxhat * x_hat).mean(dim=-1, keepdim=True)
        )
        return grad_input, grad_weight, grad_bias, None, None


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
        return LayerNormFunction.apply(
            x, self.weight, self.bias, len(self.normalized_shape), self.eps
        )
