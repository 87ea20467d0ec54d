"""The last ReLU passes every gradient through, even where it is off."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class _StraightRelu(torch.autograd.Function):
    """ReLU forward, identity backward (a straight-through estimator)."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        return g


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        return _StraightRelu.apply(self.fc2(F.relu(self.fc1(x))) + x)
