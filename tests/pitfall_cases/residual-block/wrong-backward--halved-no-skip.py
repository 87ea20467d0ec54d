import torch
import torch.nn as nn
import torch.nn.functional as F


class _Half(torch.autograd.Function):
    @staticmethod
    def forward(ctx, t):
        return t.clone()

    @staticmethod
    def backward(ctx, g):
        return g * 0.5


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        return _Half.apply(F.relu(self.fc2(F.relu(self.fc1(x)))))  # no skip either
