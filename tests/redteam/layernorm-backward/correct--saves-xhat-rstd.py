import torch


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, unbiased=False, keepdim=True)
        rstd = torch.rsqrt(var + eps)
        xhat = (x - mean) * rstd
        ctx.save_for_backward(xhat, weight, rstd)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_out):
        xhat, weight, rstd = ctx.saved_tensors
        c = xhat.shape[-1]
        dxhat = grad_out * weight
        dx = rstd * (dxhat - dxhat.mean(-1, keepdim=True) - xhat * (dxhat * xhat).mean(-1, keepdim=True))
        dweight = (grad_out * xhat).reshape(-1, c).sum(0)
        dbias = grad_out.reshape(-1, c).sum(0)
        return dx, dweight, dbias, None
