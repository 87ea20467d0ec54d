"""Mutant wrong-backward (with activation-placement): no ReLU between the layers, and the final
ReLU is a hand-written straight-through one (its backward passes every gradient)."""
import torch
import torch.nn as nn


class _StraightThroughReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        return _StraightThroughReLU.apply(self.fc2(self.fc1(x)) + x)
