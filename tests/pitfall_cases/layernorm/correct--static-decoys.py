"""Right, with code the static rules would flag if it mattered: an unused unbiased std over dim=1,
a detached copy for logging, and eps added to a std that is never used."""
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
        self.last_spread = None

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        self.last_spread = x.std(dim=0).detach()  # bookkeeping only
        unused = self.last_spread + self.eps
        mean = x.mean(dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
