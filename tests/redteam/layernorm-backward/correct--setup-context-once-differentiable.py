# The newer style: forward without ctx, setup_context saving what backward needs, and only the
# gradients asked for (needs_input_grad), with a self-test that may use autograd freely.
import torch
from torch.autograd.function import once_differentiable


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(x, weight, bias, eps):
        mean = x.mean(-1, keepdim=True)
        rstd = 1.0 / torch.sqrt((x - mean).pow(2).mean(-1, keepdim=True) + eps)
        return (x - mean) * rstd * weight + bias

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias, eps = inputs
        mean = x.mean(-1, keepdim=True)
        rstd = 1.0 / torch.sqrt((x - mean).pow(2).mean(-1, keepdim=True) + eps)
        ctx.save_for_backward((x - mean) * rstd, weight, rstd)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        xhat, weight, rstd = ctx.saved_tensors
        c = xhat.shape[-1]
        dx = dweight = dbias = None
        if ctx.needs_input_grad[0]:
            g = grad_out * weight
            dx = rstd * (g - g.mean(-1, keepdim=True) - xhat * (g * xhat).mean(-1, keepdim=True))
        if ctx.needs_input_grad[1]:
            dweight = (grad_out * xhat).reshape(-1, c).sum(0)
        if ctx.needs_input_grad[2]:
            dbias = grad_out.reshape(-1, c).sum(0)
        return dx, dweight, dbias, None


if __name__ == "__main__":
    x = torch.randn(3, 5, dtype=torch.double, requires_grad=True)
    w = torch.randn(5, dtype=torch.double, requires_grad=True)
    b = torch.randn(5, dtype=torch.double, requires_grad=True)
    print(torch.autograd.gradcheck(lambda *t: LayerNormFunction.apply(*t, 1e-5), (x, w, b)))
    ref = torch.nn.functional.layer_norm(x, (5,), w, b, 1e-5)
    ref.sum().backward()
