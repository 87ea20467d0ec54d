"""silu-on-value, written independently: swish spelled out as v * sigmoid(v), on the wrong branch."""
import torch
import torch.nn as nn


class SwiGLU(nn.Module):
    def __init__(self, dim, hidden_dim=None):
        super().__init__()
        hidden = hidden_dim if hidden_dim is not None else dim * 4
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x):
        gate = self.w3(x)
        return self.w2(self.w1(x) * (gate * torch.sigmoid(gate)))
