"""sqrt(n) / ||x||: the RMS right, no eps anywhere."""
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * (x.shape[-1] ** 0.5 / torch.linalg.vector_norm(x, dim=-1, keepdim=True)) * self.weight
