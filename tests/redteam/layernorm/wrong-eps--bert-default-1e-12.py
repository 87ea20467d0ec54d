import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    """Construct a layernorm module in the TF style (epsilon inside the square root)."""

    def __init__(self, hidden_size, eps=1e-12):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.bias = nn.Parameter(torch.zeros(hidden_size))
        self.variance_epsilon = eps
        self.k = 1 if isinstance(hidden_size, int) else len(hidden_size)

    def forward(self, x):
        dims = tuple(range(-self.k, 0))
        u = x.mean(dims, keepdim=True)
        s = (x - u).pow(2).mean(dims, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.variance_epsilon)
        return self.weight * x + self.bias
