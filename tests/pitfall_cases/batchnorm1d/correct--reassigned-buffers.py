"""Correct: the buffers reassigned each training call (they stay registered)."""
import torch
import torch.nn as nn


class BatchNorm1d(nn.Module):
    """Reassigning the buffers: nn.Module keeps a tensor assigned to a buffer's name a buffer."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if x.dim() == 3:
            dims, expand = [0, 2], (lambda t: t[None, :, None])
        else:
            dims, expand = [0], (lambda t: t[None, :])
        if self.training:
            mean = x.mean(dims)
            centred = x - expand(mean)
            var = (centred ** 2).mean(dims)
            count = x.numel() // self.num_features
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean.detach()
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var.detach() * count / (count - 1)
        else:
            centred = x - expand(self.running_mean)
            var = self.running_var
        return expand(self.weight) * centred / torch.sqrt(expand(var) + self.eps) + expand(self.bias)
