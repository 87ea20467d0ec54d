"""Reference RMSNorm, written out (LLaMA / T5 style) so the formula is on the page: each row divided
by the root of its mean square over the last dim, eps inside the root, then the gain. No centring,
no bias."""
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        ms = x.pow(2).mean(dim=-1, keepdim=True)  # mean square over the last dim: no mean subtracted
        return x / torch.sqrt(ms + self.eps) * self.weight
