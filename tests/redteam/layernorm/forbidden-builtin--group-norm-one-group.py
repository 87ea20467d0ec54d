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
        k = len(self.normalized_shape)
        lead = x.shape[: x.dim() - k]
        flat = x.reshape(-1, 1, *self.normalized_shape)
        y = F.group_norm(flat, 1, eps=self.eps).reshape(*lead, *self.normalized_shape)
        return y * self.weight + self.bias
