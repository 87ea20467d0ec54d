import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.register_parameter("weight", nn.Parameter(torch.ones(*self.normalized_shape)))
            self.register_parameter("bias", nn.Parameter(torch.zeros(*self.normalized_shape)))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    def forward(self, input):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = input.mean(dims, keepdim=True)
        var = (input - mean).square().mean(dims, keepdim=True)
        out = (input - mean) * (var + self.eps).rsqrt()
        if self.weight is not None:
            out = out * self.weight
        if self.bias is not None:
            out = out + self.bias
        return out
