"""A hand-written backward that sums the parameter gradients over dim 0 only: right for (N, C)
inputs, wrong for batched 3-D and unbatched ones (issue 9)."""
import torch
import torch.nn as nn


class _Affine(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_hat, weight, bias):
        ctx.save_for_backward(x_hat)
        return x_hat * weight + bias

    @staticmethod
    def backward(ctx, grad):
        (x_hat,) = ctx.saved_tensors
        weight_grad = (grad * x_hat).sum(0)
        while weight_grad.dim() > 1 and weight_grad.dim() > grad.dim() - 1:
            weight_grad = weight_grad.sum(0)
        return grad, weight_grad, grad.sum(0)


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dims, keepdim=True)
        x_hat = (x - mean) / torch.sqrt(x.var(dims, keepdim=True, unbiased=False) + self.eps)
        return _Affine.apply(x_hat, self.weight, self.bias)
