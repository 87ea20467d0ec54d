import torch
import torch.nn as nn
import torch.nn.functional as F


class _DampedIdentity(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return 0.25 * grad


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        return F.relu(self.fc2(F.relu(self.fc1(x))) + _DampedIdentity.apply(x))
