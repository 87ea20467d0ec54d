import torch
import torch.nn as nn


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
        mean = torch.mean(x, dim=dims, keepdim=True)
        var = torch.mean(torch.square(x - mean), dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


if __name__ == "__main__":
    torch.manual_seed(0)
    cases = [((2, 3, 8), 8), ((4, 5, 6), (5, 6)), ((3, 4), (3, 4)), ((2, 3, 4, 5), (3, 4, 5))]
    for shape, ns in cases:
        x = torch.randn(*shape)
        mine = LayerNorm(ns)
        ref = nn.LayerNorm(ns)
        assert torch.allclose(mine(x), ref(x), atol=1e-5), (shape, ns)
    print("ok")
