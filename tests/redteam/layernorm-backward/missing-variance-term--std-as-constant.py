import torch


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean(-1, keepdim=True)
        std = torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + eps)
        xhat = (x - mean) / std
        ctx.save_for_backward(xhat, weight, std)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_out):
        xhat, weight, std = ctx.saved_tensors
        n = xhat.shape[-1]
        dxhat = grad_out * weight
        dx = (dxhat - dxhat.mean(-1, keepdim=True)) / std  # std treated as a constant
        return dx, (grad_out * xhat).reshape(-1, n).sum(0), grad_out.reshape(-1, n).sum(0), None
