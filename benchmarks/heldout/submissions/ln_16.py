import torch
import torch.nn as nn
import torch.nn.functional as F


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
        red = tuple(range(x.dim() - len(self.normalized_shape), x.dim()))
        mean = x.mean(red, keepdim=True)
        var = torch.var(x, red, correction=0, keepdim=True)
        return self.weight * ((x - mean) / (var + self.eps).sqrt()) + self.bias


def _compare(shape, normalized_shape, eps=1e-5):
    x = torch.randn(shape, dtype=torch.float64)
    ln = LayerNorm(normalized_shape, eps).double()
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    ref = F.layer_norm(x, ln.normalized_shape, ln.weight, ln.bias, eps)
    return (ln(x) - ref).abs().max().item()


if "__main__" == __name__:
    for s, ns in [((8, 16), 16), ((2, 3, 4, 5), (4, 5)), ((6, 7), (6, 7))]:
        assert _compare(s, ns) < 1e-10, (s, ns)
    print("all good")
