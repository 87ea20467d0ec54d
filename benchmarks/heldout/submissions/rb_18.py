import torch
import torch.nn as nn
import torch.nn.functional as F


class _Shortcut(torch.autograd.Function):
    grad_scale = 0.5

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * _Shortcut.grad_scale


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        branch = self.fc2(F.relu(self.fc1(x)))
        return F.relu(branch + _Shortcut.apply(x))
