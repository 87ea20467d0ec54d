import torch
import torch.nn as nn


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
        k = len(self.normalized_shape)
        if x.shape[x.dim() - k:] != self.normalized_shape:
            raise ValueError(
                f"expected trailing dims {tuple(self.normalized_shape)}, got {tuple(x.shape)}"
            )
        dims = tuple(range(x.dim() - k, x.dim()))
        mean = x.mean(dim=dims, keepdim=True)
        var = torch.var(x, dim=dims, keepdim=True, correction=0)
        return torch.add(torch.div(x - mean, torch.sqrt(torch.add(var, self.eps))) * self.weight, self.bias)
